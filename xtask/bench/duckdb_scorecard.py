"""The peer run of `cargo xtask bench`: DuckDB computes the same month's
scorecard as `merit report kpi` from the same simulated rows, loaded into its
own database file, times it cold (first query on a fresh connection) and warm
(the same query again), each the median of REPEATS fresh connections, and
checks every figure against Merit's CSV output.

usage: duckdb_scorecard.py DATA_DIR DUCKDB_FILE FROM TO MERIT_BY_AGENT_CSV MERIT_BY_QUEUE_INTERVAL_CSV REPEATS
Prints one JSON object: timings in seconds and the number of mismatches.
"""

import csv
import json
import sys
import time

import duckdb

# Every queue of the demo centre is at its Berlin site; an agent's figures
# use the zone of the agent's site (SPEC.md), Berlin or Lisbon.
QUEUE_ZONE = "'Europe/Berlin'"
AGENT_ZONE = "coalesce(agent_zone, 'Europe/Berlin')"

LOAD = """
CREATE OR REPLACE TABLE contacts AS SELECT
    source_id, outcome, queue_id, agent_id, customer_id,
    epoch_ms(arrival::TIMESTAMPTZ) AS arrival_ms,
    epoch_ms("end"::TIMESTAMPTZ) AS end_ms,
    epoch_ms(queue_entry::TIMESTAMPTZ) AS entry_ms,
    epoch_ms(queue_exit::TIMESTAMPTZ) AS exit_ms,
    epoch_ms(answer::TIMESTAMPTZ) AS answer_ms,
    epoch_ms(after_work_end::TIMESTAMPTZ) AS after_work_end_ms,
    coalesce(transfers, '') <> '' AS transferred
FROM read_csv('{data}/contacts.csv', all_varchar = true, header = true);
CREATE OR REPLACE TABLE agent_zones AS
WITH org AS (SELECT * FROM read_csv('{data}/org.csv', all_varchar = true, header = true))
SELECT a.id AS agent_id, s.time_zone AS agent_zone
FROM org a JOIN org s ON s.record = 'site' AND s.id = a.site_id
WHERE a.record = 'agent';
CREATE OR REPLACE TABLE survey_answers AS SELECT
    contact_source_id, question_id, value::INTEGER AS value
FROM read_csv('{data}/surveys.csv', all_varchar = true, header = true)
WHERE value IS NOT NULL;
"""

# The same definitions as Merit's version 1 defaults (docs/metrics.md):
# T = 20 s, short abandon <= 5 s, FCR 7 days with a 120 s transfer grace,
# CSAT top-two-box on satisfied_with_answers.
SCORECARD = """
WITH base AS (
    SELECT contacts.*,
        timezone({zone}, make_timestamptz(arrival_ms * 1000)) AS local_ts,
        CASE WHEN entry_ms IS NULL THEN 0 ELSE coalesce(answer_ms, exit_ms) - entry_ms END AS wait_ms,
        outcome = 'handled' AND answer_ms IS NOT NULL AS answered,
        outcome IN ('queue_abandon', 'short_abandon') AS in_queue_abandon
    FROM contacts LEFT JOIN agent_zones USING (agent_id)
),
period AS (
    SELECT *, in_queue_abandon AND wait_ms > 5000 AS abandon,
        coalesce(agent_id, '(none)') AS agent,
        coalesce(queue_id, '(none)') AS queue,
        strftime(time_bucket(INTERVAL 30 MINUTES, local_ts), '%Y-%m-%d %H:%M') AS interval
    FROM base
    WHERE CAST(local_ts AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
),
fcr AS (
    SELECT p.source_id, NOT EXISTS (
        SELECT 1 FROM contacts later
        WHERE later.customer_id = p.customer_id
          AND (later.arrival_ms > p.arrival_ms
               OR (later.arrival_ms = p.arrival_ms AND later.source_id > p.source_id))
          AND later.arrival_ms <= p.end_ms + 7 * 86400000
          AND NOT (p.transferred AND later.arrival_ms - p.end_ms <= 120000)
    ) AS resolved
    FROM period p WHERE p.outcome = 'handled' AND p.customer_id IS NOT NULL
),
csat AS (
    SELECT s.contact_source_id, count(*) AS answers, count(*) FILTER (WHERE s.value IN (4, 5)) AS positive
    FROM survey_answers s WHERE s.question_id = 'satisfied_with_answers'
    GROUP BY s.contact_source_id
)
SELECT {groups},
    count(*) FILTER (WHERE answered OR abandon) AS offered,
    count(*) FILTER (WHERE answered) AS answered,
    count(*) FILTER (WHERE abandon) AS abandoned,
    count(*) FILTER (WHERE answered AND wait_ms <= 20000) AS answered_within,
    coalesce(sum(wait_ms) FILTER (WHERE answered), 0) AS wait_answered_ms,
    count(*) FILTER (WHERE outcome = 'handled') AS handled,
    coalesce(sum(end_ms - answer_ms + coalesce(after_work_end_ms - end_ms, 0)) FILTER (WHERE outcome = 'handled'), 0) AS handle_ms,
    count(*) FILTER (WHERE outcome = 'handled' AND transferred) AS transferred,
    count(fcr.source_id) AS fcr_eligible,
    count(*) FILTER (WHERE fcr.resolved) AS fcr_resolved,
    coalesce(sum(csat.answers), 0) AS csat_answers,
    coalesce(sum(csat.positive), 0) AS csat_positive
FROM period
LEFT JOIN fcr USING (source_id)
LEFT JOIN csat ON csat.contact_source_id = period.source_id
GROUP BY ALL
"""

# Merit definition -> (DuckDB numerator column, DuckDB denominator column or None).
FIGURES = {
    "offered": ("offered", None),
    "answered": ("answered", None),
    "abandon_rate": ("abandoned", "offered"),
    "service_level": ("answered_within", "offered"),
    "asa": ("wait_answered_ms", "answered"),
    "aht": ("handle_ms", "handled"),
    "transfer_rate": ("transferred", "handled"),
    "fcr_repeat": ("fcr_resolved", "fcr_eligible"),
    "csat": ("csat_positive", "csat_answers"),
}


def merit_rows(path, n_dims):
    """Merit's CSV: group (interval labels without their UTC offset) -> {definition: (num, den)}."""
    rows = {}
    with open(path, newline="") as f:
        for record in csv.DictReader(f):
            values = list(record.values())
            group = tuple(v[:16] if len(v) > 16 and v[16] in "+-" else v for v in values[:n_dims])
            if group[0] == "total":
                continue
            rows[group] = {
                name: (int(record[f"{name}_numerator"]), int(record[f"{name}_denominator"] or 0))
                for name in FIGURES
            }
    return rows


def compare(merit, result, n_dims):
    columns = [d[0] for d in result.description]
    mismatches = []
    seen = set()
    for row in result.fetchall():
        values = dict(zip(columns, row))
        group = tuple(str(v) for v in row[:n_dims])
        seen.add(group)
        mine = merit.get(group)
        for name, (num, den) in FIGURES.items():
            expected = (int(values[num]), int(values[den]) if den else 0)
            # A group with no part in any figure is not a row in Merit.
            got = mine[name] if mine else (0, 0)
            if got != expected:
                mismatches.append(f"{group} {name}: merit {got}, duckdb {expected}")
    for group, figures in merit.items():
        if group not in seen and any(n or d for n, d in figures.values()):
            mismatches.append(f"{group}: only in merit")
    return mismatches


def main():
    data, db_file, start, end, by_agent_csv, by_queue_csv, repeats = sys.argv[1:8]
    load = duckdb.connect(db_file)
    load.execute(LOAD.format(data=data))
    load.close()

    timings = {}
    results = {}
    for name, groups, zone in [("by_agent", "agent", AGENT_ZONE), ("by_queue_interval", "queue, interval", QUEUE_ZONE)]:
        sql = SCORECARD.format(zone=zone, start=start, end=end, groups=groups)
        runs = {"cold": [], "warm": []}
        for _ in range(int(repeats)):
            con = duckdb.connect(db_file)  # a fresh connection: nothing computed yet
            for run in ("cold", "warm"):
                started = time.perf_counter()
                rows = con.execute(sql).fetchall()
                runs[run].append(time.perf_counter() - started)
            con.close()
        for run, seconds in runs.items():
            timings[f"{name}_{run}_s"] = sorted(seconds)[len(seconds) // 2]
        results[name] = (sql, len(rows))
    con = duckdb.connect(db_file)
    mismatches = []
    for name, path, n_dims in [("by_agent", by_agent_csv, 1), ("by_queue_interval", by_queue_csv, 2)]:
        mismatches += compare(merit_rows(path, n_dims), con.execute(results[name][0]), n_dims)
    print(json.dumps({**timings, "mismatches": len(mismatches), "first_mismatches": mismatches[:10]}))


if __name__ == "__main__":
    main()
