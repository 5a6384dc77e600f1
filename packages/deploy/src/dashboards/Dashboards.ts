/**
 * Grafana dashboards as code (@grafana/grafana-foundation-sdk): overview, pool detail, E2B data
 * plane, operator health. `npm run dashboards` writes their JSON to chart/dashboards/ (the chart's
 * sidecar ConfigMaps) and docs/dashboards/; a test runs every panel's queries against a real
 * Prometheus scraping the operator.
 */
import {
  type Dashboard,
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
} from "@grafana/grafana-foundation-sdk/dashboard"
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus"
import { PanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries"

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, not a JS template
const datasource = { type: "prometheus", uid: "${datasource}" }
const selector = 'namespace=~"$namespace", pool=~"$pool"'
const rate = "$__rate_interval"

const target = (expr: string, legend: string) =>
  new DataqueryBuilder().expr(expr).legendFormat(legend).datasource(datasource)

const panel = (title: string, unit: string, targets: ReadonlyArray<DataqueryBuilder>) => {
  const builder = new PanelBuilder().title(title).unit(unit).datasource(datasource).height(8).span(12)
  for (const t of targets) builder.withTarget(t)
  return builder
}

const base = (uid: string, title: string, pools: boolean) => {
  const builder = new DashboardBuilder(title)
    .uid(uid)
    .tags(["agent-sandbox"])
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .withVariable(new DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"))
  if (pools) {
    for (const [name, query] of [
      ["namespace", "label_values(agent_sandbox_pool_desired_replicas, namespace)"],
      ["pool", 'label_values(agent_sandbox_pool_desired_replicas{namespace=~"$namespace"}, pool)'],
    ] as const)
      builder.withVariable(
        new QueryVariableBuilder(name)
          .label(name)
          .query(query)
          .datasource(datasource)
          .multi(true)
          .includeAll(true)
          .allValue(".*")
          .refresh(VariableRefresh.OnTimeRangeChanged),
      )
  }
  return builder
}

const quantiles = (metric: string, by: string, filter: string) =>
  [0.5, 0.99].map((q) =>
    target(
      `histogram_quantile(${q}, sum by (le${by === "" ? "" : `, ${by}`}) (rate(${metric}_bucket{${filter}}[${rate}])))`,
      `p${q * 100}${by === "" ? "" : ` {{${by}}}`}`,
    ),
  )

export const overview = base("agent-sandbox-overview", "Agent Sandbox / Overview", true)
  .withPanel(
    panel(
      "Allocation latency (allocated)",
      "s",
      quantiles("agent_sandbox_allocation_duration_seconds", "", `${selector}, outcome="allocated"`),
    ),
  )
  .withPanel(
    panel("Allocations by outcome", "reqps", [
      target(
        `sum by (outcome) (rate(agent_sandbox_allocation_duration_seconds_count{${selector}}[${rate}]))`,
        "{{outcome}}",
      ),
    ]),
  )
  .withPanel(
    panel("Warm vs allocated Pods", "short", [
      target(
        `max by (namespace, pool, state) (agent_sandbox_pool_pods{${selector}, state=~"warm|allocated"})`,
        "{{namespace}}/{{pool}} {{state}}",
      ),
    ]),
  )
  .withPanel(
    panel("Callers waiting", "short", [
      target(
        `sum by (namespace, pool) (agent_sandbox_allocation_waiters{${selector}})`,
        "{{namespace}}/{{pool}}",
      ),
    ]),
  )
  .withPanel(
    panel("Errors (503, 429, 404, ...) and claim conflicts", "reqps", [
      target(
        `sum by (outcome) (rate(agent_sandbox_allocation_duration_seconds_count{${selector}, outcome!="allocated"}[${rate}]))`,
        "{{outcome}}",
      ),
      target(`sum(rate(agent_sandbox_claim_conflicts_total{${selector}}[${rate}]))`, "claim conflicts (409)"),
    ]),
  )

export const poolDetail = base("agent-sandbox-pool", "Agent Sandbox / Pool", true)
  .withPanel(
    panel("Pods by state", "short", [
      target(`max by (state) (agent_sandbox_pool_pods{${selector}})`, "{{state}}"),
      target(`max(agent_sandbox_pool_desired_replicas{${selector}})`, "warm target"),
      target(`max(agent_sandbox_pool_updating_pods{${selector}})`, "not yet at the update revision"),
    ]),
  )
  .withPanel(
    panel(
      "Allocation latency by pool",
      "s",
      quantiles("agent_sandbox_allocation_duration_seconds", "pool", `${selector}, outcome="allocated"`),
    ),
  )
  .withPanel(
    panel("Releases and expiries", "ops", [
      target(`sum by (pool) (rate(agent_sandbox_releases_total{${selector}}[${rate}]))`, "released {{pool}}"),
      target(
        `sum by (pool, reason) (rate(agent_sandbox_expiries_total{${selector}}[${rate}]))`,
        "{{reason}} {{pool}}",
      ),
    ]),
  )
  .withPanel(
    panel("Recycling and in-place updates", "ops", [
      target(
        `sum by (result) (rate(agent_sandbox_sandbox_ends_total{namespace=~"$namespace"}[${rate}]))`,
        "ended: {{result}}",
      ),
      target(
        `sum by (result) (rate(agent_sandbox_inplace_updates_total{${selector}}[${rate}]))`,
        "update: {{result}}",
      ),
    ]),
  )

export const e2bDataPlane = base("agent-sandbox-e2b", "Agent Sandbox / E2B data plane", false)
  .withPanel(
    panel("Requests by plane and status", "reqps", [
      target(`sum by (plane, code) (rate(agent_sandbox_e2b_requests_total[${rate}]))`, "{{plane}} {{code}}"),
    ]),
  )
  .withPanel(
    panel(
      "envd latency by method",
      "s",
      quantiles("agent_sandbox_envd_request_duration_seconds", "method", ""),
    ),
  )
  .withPanel(
    panel(
      "exec session open latency (through the API server)",
      "s",
      quantiles("agent_sandbox_exec_open_duration_seconds", "result", ""),
    ),
  )

export const operatorHealth = base("agent-sandbox-operator", "Agent Sandbox / Operator health", false)
  .withPanel(panel("Replicas leading", "short", [target("sum(agent_sandbox_leader)", "leaders")]))
  .withPanel(panel("Reconcile duration", "s", quantiles("agent_sandbox_reconcile_duration_seconds", "", "")))
  .withPanel(
    panel("Reconcile errors", "ops", [
      target(`sum(rate(agent_sandbox_reconcile_errors_total[${rate}]))`, "errors"),
    ]),
  )
  .withPanel(
    panel("Watch relists and restarts", "short", [
      target(
        `sum by (resource) (increase(agent_sandbox_watch_relists_total[${rate}]))`,
        "relists {{resource}}",
      ),
      target(
        `sum by (resource, reason) (increase(agent_sandbox_watch_restarts_total[${rate}]))`,
        "restarts {{resource}} ({{reason}})",
      ),
    ]),
  )

/** File name (without .json) → dashboard. */
export const all: ReadonlyArray<readonly [string, Dashboard]> = [
  ["overview", overview.build()],
  ["pool", poolDetail.build()],
  ["e2b", e2bDataPlane.build()],
  ["operator", operatorHealth.build()],
]

/** Every panel's queries, as Grafana would send them once the variables are set to "all". */
export const panelQueries = (
  dashboard: Dashboard,
  rateInterval: string,
): ReadonlyArray<{ readonly panel: string; readonly exprs: ReadonlyArray<string> }> =>
  (dashboard.panels ?? []).map((p) => {
    const targets = ("targets" in p ? (p.targets ?? []) : []) as ReadonlyArray<{ expr?: string }>
    return {
      panel: "title" in p ? String(p.title) : "",
      exprs: targets.map((t) =>
        (t.expr ?? "")
          .replaceAll("$__rate_interval", rateInterval)
          .replaceAll("$namespace", ".*")
          .replaceAll("$pool", ".*"),
      ),
    }
  })
