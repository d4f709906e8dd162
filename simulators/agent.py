"""An agent's view of a simulated server: the official MCP SDK client lists its tools and calls
one, through POST /mcp/v1 with an API key, as any MCP client would."""

from __future__ import annotations

import asyncio
import json


def agent_view(server, say=print) -> bool:
    """Say what an agent sees of `server`; False when the MCP SDK is not installed."""
    try:
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
    except ImportError:
        say("  (pip install 'mcp>=2.3' to see an agent's view of a server)")
        return False
    url = f"{server.url}/mcp/v1"
    key = server.api_key()

    async def session():
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = client.session.initialize_result
            version = result.protocol_version if result else "2026-07-28"
            tools = (await client.list_tools()).tools
            info = await client.call_tool("instance_info", {})
            return version, tools, info

    version, tools, info = asyncio.run(session())
    say(f"  an agent (MCP SDK, protocol {version}) at {url}: {len(tools)} tools: "
        f"{', '.join(tool.name for tool in tools)}")
    say(f"  tools/call instance_info -> {json.dumps(info.structured_content)[:300]}")
    return True
