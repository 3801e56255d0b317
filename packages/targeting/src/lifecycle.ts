// The 2A3R / AARRR lifecycle stages, one vocabulary for the whole hub: members stores a member's stage, rules target
// it (`lifecycleStage`), and analytics computes it.
export const LIFECYCLE_STAGES = [
  'AWARENESS',
  'ACQUISITION',
  'ACTIVATION',
  'RETENTION',
  'REVENUE',
  'REFERRAL',
  'AT_RISK',
  'CHURNED',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export const isLifecycleStage = (value: unknown): value is LifecycleStage =>
  typeof value === 'string' && (LIFECYCLE_STAGES as readonly string[]).includes(value);
