"""From the recorded events to a timeline and a summary (text or JSON).

Everything here is derived from what the simulated processes recorded: the orchestrator's own
actions, every HTTP request the addon sent (with the receiver's answer) and the addon's log lines.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from .clock import iso

REGISTER = "/register"
HEARTBEAT = "/heartbeat"
_TRIGGER = re.compile(r"registration from (\w+)")


def _kind(event: dict) -> str:
    path = event.get("path") or ""
    if path.endswith(REGISTER):
        return "register"
    if path.endswith(HEARTBEAT):
        return "heartbeat"
    return "other"


def _trigger_of(register: dict, later: list[dict]) -> str:
    """The trigger the addon logged for this registration (same process and thread), else a guess."""
    for event in later:
        if event.get("type") != "addon_log":
            continue
        if event.get("pid") == register.get("pid") and event.get("thread_id") == register.get("thread_id"):
            match = _TRIGGER.search(event.get("message", ""))
            if match:
                return match.group(1)
    thread = register.get("thread") or ""
    if thread.startswith("mcp-register-"):
        return thread[len("mcp-register-"):]
    if register.get("role") == "cron":
        return "cron"
    if register.get("role") == "master":
        return "install"
    return "unknown"


def _body_summary(body) -> str:
    if not isinstance(body, dict):
        return ""
    bits = [f"server_id={body.get('server_id')}"]
    if "uptime_seconds" in body:
        bits.append(f"uptime={body['uptime_seconds']}")
    if "timestamp" in body:
        bits.append(f"at={body['timestamp']}")
    if "started_at" in body:
        bits.append(f"started_at={body['started_at']}")
    if isinstance(body.get("ip_addresses"), dict):
        bits.append(f"ip={body['ip_addresses'].get('primary')}")
    if "odoo_stage" in body:
        bits.append(f"stage={body['odoo_stage'] or '-'}")
    bits.append(f"{len(body)} fields")
    return " ".join(bits)


def build_report(events: list[dict]) -> dict:
    run = next((e for e in events if e.get("type") == "run_started"), {})
    start_real = run.get("real", events[0]["real"] if events else 0.0)
    generations: dict[tuple, dict] = {}
    order: list[tuple] = []
    timeline: list[dict] = []
    problems: list[str] = []
    other_requests: list[dict] = []
    ticks_by_gen: Counter = Counter()

    def entry(event, server, gen, who, what, **extra):
        item = {"sim": iso(event["sim"]) if "sim" in event else None,
                "real_offset": round(event["real"] - start_real, 3),
                "server": server, "gen": gen, "who": who, "what": what}
        item.update(extra)
        timeline.append(item)
        return item

    for index, event in enumerate(events):
        kind = event.get("type")
        server, gen = event.get("server"), event.get("gen")
        key = (server, gen)
        if kind == "generation_started":
            generations[key] = {
                "server": server, "gen": gen, "kind": event["kind"], "hostname": event["hostname"],
                "addresses": event["addresses"], "stage": event["stage"], "dbname": event["dbname"],
                "workers": event["workers"], "started_sim": event["sim"], "started_real": event["real"],
                "register_posts": 0, "registrations": 0, "registration_triggers": [],
                "told_after_sim": None, "told_after_real": None, "first_registration": None,
                "heartbeats_sent": 0, "heartbeats_ok": 0, "heartbeats_failed": 0, "ticks": 0,
                "max_tick_seconds": 0.0, "health_requests": 0, "health_ok": 0, "health_max_latency": 0.0,
                "heartbeat_before_registration": False, "errors": [],
                "registration_threads": 0, "_thread_pids": set(),
            }
            order.append(key)
            what = {"install": "INSTALL", "rebuild": "REBUILD", "staging": "STAGING COPY"}[event["kind"]]
            entry(event, server, gen, "orchestrator",
                  f"{what}: container {event['hostname']} ({', '.join(event['addresses'])}), "
                  f"ODOO_STAGE={event['stage'] or '(unset)'}, db {event['dbname']}, "
                  f"{event['workers']} HTTP workers + 1 cron worker")
        elif kind == "generation_ready":
            entry(event, server, gen, "orchestrator",
                  f"up on 127.0.0.1:{event['port']} (master pid {event['master_pid']}), "
                  f"{event['real'] - generations[key]['started_real']:.2f} s after the start")
        elif kind == "http_out":
            record = generations.get(key)
            what_kind = _kind(event)
            status = event.get("status")
            outcome = f"{status}" if status is not None else f"failed ({event.get('error')})"
            if what_kind == "other":
                other_requests.append(event)
                entry(event, server, gen, event.get("role"),
                      f"UNEXPECTED {event.get('method')} {event.get('url')} -> {outcome}")
                continue
            if what_kind == "register":
                trigger = _trigger_of(event, events[index + 1:])
                if record is not None:
                    record["register_posts"] += 1
                    if event.get("ok"):
                        record["registrations"] += 1
                        record["registration_triggers"].append(trigger)
                        if record["first_registration"] is None:
                            record["first_registration"] = event["real"]
                            record["told_after_sim"] = round(event["sim"] - record["started_sim"], 3)
                            record["told_after_real"] = round(event["real"] - record["started_real"], 3)
                entry(event, server, gen, event.get("role"),
                      f"POST {event.get('path')} -> {outcome} [trigger {trigger}, "
                      f"{event.get('duration')} s] {_body_summary(event.get('body'))}",
                      request="register", trigger=trigger, status=status, ok=event.get("ok"),
                      error=event.get("error"), body=event.get("body"))
            else:
                if record is not None:
                    record["heartbeats_sent"] += 1
                    if event.get("ok"):
                        record["heartbeats_ok"] += 1
                        if record["first_registration"] is None:
                            record["heartbeat_before_registration"] = True
                    else:
                        record["heartbeats_failed"] += 1
                entry(event, server, gen, event.get("role"),
                      f"POST {event.get('path')} -> {outcome} [{event.get('duration')} s] "
                      f"{_body_summary(event.get('body'))}",
                      request="heartbeat", status=status, ok=event.get("ok"), error=event.get("error"),
                      body=event.get("body"))
        elif kind == "thread_started":
            record = generations.get(key)
            if record is not None and str(event.get("name", "")).startswith("mcp-register"):
                record["registration_threads"] += 1
                record["_thread_pids"].add(event.get("pid"))
        elif kind == "addon_log":
            message = event.get("message", "")
            if "MCP hostname" in message or event.get("level") in ("WARNING", "ERROR", "CRITICAL"):
                entry(event, server, gen, event.get("role"), f"addon {event.get('level')}: {message}")
        elif kind == "odoo_error":
            text = f"{server}/g{gen} {event.get('role')}: {event.get('logger')}: {event.get('message')}"
            problems.append(f"Odoo error: {text}")
            if key in generations:
                generations[key]["errors"].append(event.get("message"))
            entry(event, server, gen, event.get("role"), f"ODOO ERROR {event.get('logger')}: "
                  f"{event.get('message')}", exception=event.get("exception"))
        elif kind == "health_burst":
            record = generations.get(key)
            statuses = event.get("statuses") or {}
            if record is not None:
                record["health_requests"] += event["requests"]
                record["health_ok"] += int(statuses.get("200", 0))
                record["health_max_latency"] = max(record["health_max_latency"], event["max_latency"])
            if event["requests"]:
                shown = ", ".join(f"{n}x{s}" for s, n in sorted(statuses.items())) or "no answer"
                entry(event, server, gen, "orchestrator",
                      f"{event['requests']} concurrent GET /mcp/v1/health -> {shown} "
                      f"(slowest {event['max_latency']:.3f} s)")
            bad = event["requests"] - int(statuses.get("200", 0))
            if bad:
                problems.append(f"{server}/g{gen}: {bad} of {event['requests']} health requests not "
                                f"answered 200: {statuses} {event.get('errors')}")
        elif kind == "tick":
            ticks_by_gen[key] += 1
            record = generations.get(key)
            if record is not None:
                record["ticks"] += 1
                record["max_tick_seconds"] = max(record["max_tick_seconds"], event["duration"])
        elif kind == "clock":
            if event.get("advanced") == 60:
                entry(event, None, None, "orchestrator", "one simulated minute passes: cron runs")
            else:
                entry(event, None, None, "orchestrator", f"{event.get('advanced')} simulated seconds pass")
        elif kind in ("worker_died", "worker_crashed", "quiesce_timeout"):
            problems.append(f"{server}/g{gen}: {kind} {event.get('worker') or event.get('role')} "
                            f"{event.get('exit_code', '')}{event.get('error', '')}")
            entry(event, server, gen, event.get("role"), f"{kind.upper()}: {event}")
        elif kind == "worker_recycled":
            entry(event, server, gen, "master", f"worker {event['worker']} recycled "
                  f"(pid {event['old_pid']} -> {event['new_pid']}{', killed' if event.get('hard') else ''})")
        elif kind == "receiver":
            entry(event, None, None, "orchestrator", f"receiver {event.get('state')}")
        elif kind == "database_ready" and event.get("threads_left"):
            problems.append(f"{server}/g{gen}: threads still running after the install: "
                            f"{event['threads_left']}")

    summary = _summarize([generations[k] for k in order], other_requests, problems)
    return {"run": {k: run.get(k) for k in ("receiver", "seed", "backend", "flavour")},
            "timeline": timeline, "summary": summary}


def _summarize(gens: list[dict], other_requests: list[dict], problems: list[str]) -> dict:
    per_server = defaultdict(list)
    for record in gens:
        per_server[record["server"]].append(record)
    generations = []
    for record in gens:
        expected = record["ticks"] if record["kind"] != "staging" else 0
        record = dict(record)
        record["heartbeats_missing"] = max(0, expected - record["heartbeats_sent"])
        record["started_sim"] = iso(record["started_sim"])
        record.pop("started_real")
        record.pop("first_registration")
        record["registration_thread_processes"] = len(record.pop("_thread_pids"))
        generations.append(record)
    registrations = [g["registrations"] for g in generations]
    told_health = [g["told_after_sim"] for g in generations
                   if g["told_after_sim"] is not None and g["registration_triggers"][:1] == ["health"]]
    told_cron = [g["told_after_sim"] for g in generations
                 if g["told_after_sim"] is not None and g["registration_triggers"][:1] == ["cron"]]
    return {
        "generations": generations,
        "registrations_per_generation": registrations,
        "exactly_one_registration": bool(registrations) and all(n == 1 for n in registrations),
        "register_posts": sum(g["register_posts"] for g in generations),
        "told_after_sim_seconds": {"health": told_health, "cron": told_cron},
        "told_after_real_seconds": [g["told_after_real"] for g in generations],
        "heartbeats_sent": sum(g["heartbeats_sent"] for g in generations),
        "heartbeats_ok": sum(g["heartbeats_ok"] for g in generations),
        "heartbeats_failed": sum(g["heartbeats_failed"] for g in generations),
        "heartbeats_missing": sum(g["heartbeats_missing"] for g in generations),
        "heartbeat_before_registration": [f"{g['server']}/g{g['gen']}" for g in generations
                                          if g["heartbeat_before_registration"]],
        "other_requests": [f"{e.get('method')} {e.get('url')}" for e in other_requests],
        "max_tick_seconds": max((g["max_tick_seconds"] for g in generations), default=0.0),
        "max_health_latency": max((g["health_max_latency"] for g in generations), default=0.0),
        "problems": problems,
    }


def render_text(report: dict) -> str:
    lines = []
    run = report["run"]
    lines.append(f"Simulated Odoo {run.get('flavour')} ({run.get('backend')}) -> receiver "
                 f"{run.get('receiver')} (seed {run.get('seed')})")
    lines.append("")
    lines.append("Timeline (simulated UTC time | real seconds since start | server/generation | who)")
    for item in report["timeline"]:
        where = f"{item['server']}/g{item['gen']}" if item["server"] else "-"
        sim = (item["sim"] or "")[11:19]
        lines.append(f"  {sim} {item['real_offset']:>8.3f}s  {where:<14} {str(item['who'] or ''):<12} "
                     f"{item['what']}")
    lines.append("")
    lines.extend(render_summary(report["summary"]))
    return "\n".join(lines)


def render_summary(summary: dict) -> list[str]:
    lines = ["Summary (regs: registrations the receiver acknowledged; racers: processes that started a "
             "registration thread; told after: simulated / real seconds from the (re)start)"]
    header = (f"  {'server/gen':<16} {'hostname':<24} {'stage':<10} {'regs':>4} {'racers':>6} "
              f"{'trigger':<8} {'told after':>17} {'heartbeats ok/failed/missing':>29}")
    lines.append(header)
    for g in summary["generations"]:
        told = ("-" if g["told_after_sim"] is None
                else f"{g['told_after_sim']:.0f} s sim/{g['told_after_real']:.2f} s")
        trigger = ",".join(g["registration_triggers"]) or "-"
        lines.append(f"  {g['server'] + '/g' + str(g['gen']):<16} {g['hostname']:<24} "
                     f"{g['stage'] or '-':<10} {g['registrations']:>4} "
                     f"{g['registration_thread_processes']:>6} {trigger:<8} {told:>17} "
                     f"{g['heartbeats_ok']:>15}/{g['heartbeats_failed']}/{g['heartbeats_missing']}")
    lines.append("")
    lines.append(f"  registrations per generation: {summary['registrations_per_generation']} "
                 f"({'exactly one each' if summary['exactly_one_registration'] else 'NOT exactly one each'};"
                 f" {summary['register_posts']} POST /register in all)")
    told = summary["told_after_sim_seconds"]
    if told["health"]:
        lines.append(f"  receiver told after a rebuild, with health traffic: {told['health']} simulated s")
    if told["cron"]:
        lines.append(f"  receiver told after a rebuild, without traffic (next cron run): {told['cron']} "
                     "simulated s")
    lines.append(f"  heartbeats: {summary['heartbeats_sent']} sent, {summary['heartbeats_ok']} acknowledged, "
                 f"{summary['heartbeats_failed']} failed, {summary['heartbeats_missing']} missing")
    lines.append(f"  slowest health answer {summary['max_health_latency']:.3f} s, slowest cron run "
                 f"{summary['max_tick_seconds']:.3f} s (real)")
    if summary["heartbeat_before_registration"]:
        lines.append(f"  HEARTBEAT BEFORE REGISTRATION: {summary['heartbeat_before_registration']}")
    if summary["other_requests"]:
        lines.append(f"  UNEXPECTED REQUESTS: {summary['other_requests']}")
    for problem in summary["problems"]:
        lines.append(f"  PROBLEM: {problem}")
    return lines
