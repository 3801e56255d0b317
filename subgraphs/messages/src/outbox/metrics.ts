// The outbox at /metrics: entries by state, counted when Prometheus scrapes. PENDING and SENDING are its depth —
// what is still to send; a depth that only grows says the send worker is stopped or the provider refuses.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@bank-hub/shared';
import { OUTBOX_STATES, type OutboxRepository } from './model';

export function outboxMetrics(outbox: OutboxRepository, logger: Logger): (registry: Registry) => void {
  return (registry) => {
    new Gauge({
      name: 'hub_outbox_entries',
      help: 'Outbox entries by state (PENDING and SENDING: the depth still to send)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          const counts = await outbox.countByState();
          for (const state of OUTBOX_STATES) this.set({ state }, counts.get(state) ?? 0);
        } catch (error) {
          // A scrape while the database is away shows no outbox figures rather than failing the whole page.
          logger.warn({ reason: (error as Error).message }, 'outbox depth not counted');
        }
      },
    });
  };
}
