// Node process metrics (prom-client's defaults) for both programs' /metrics — minus the three
// gauges prom-client names with a `_total` suffix, which Prometheus reserves for counters
// (`promtool check metrics` reports them). Their information stays in
// nodejs_active_handles / nodejs_active_requests / nodejs_active_resources (by type).
import { collectDefaultMetrics, type Registry } from 'prom-client';

const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
}
