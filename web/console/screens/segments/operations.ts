// What the segments screen asks members: the segments, what rules can test, an audience preview, and saving.
import { document } from '../../app/document';
import type { Rule } from './rule';

export interface SegmentSummary {
  code: string;
  name: string;
  description: string | null;
  rule: unknown;
  audienceSize: number;
}

export const SEGMENTS = document<{
  segments: SegmentSummary[];
  tagDefinitions: { code: string; name: string; valueType: string }[];
  membershipLevels: { code: string; name: string }[];
}>(`
  query ConsoleSegments {
    segments { code name description rule audienceSize }
    tagDefinitions { code name valueType }
    membershipLevels { code name }
  }
`);

export const PREVIEW_SEGMENT = document<
  {
    previewSegment: {
      audienceSize: number;
      sample: { id: string; riskLevel: string; lifecycleStage: string; level: { name: string } }[];
    };
  },
  { rule: Rule }
>(`
  mutation ConsolePreviewSegment($rule: TargetingRule!) {
    previewSegment(rule: $rule) {
      audienceSize
      sample { id riskLevel lifecycleStage level { name } }
    }
  }
`);

export const UPSERT_SEGMENT = document<
  { upsertSegment: SegmentSummary },
  { input: { code: string; name: string; description: string | null; rule: unknown } }
>(`
  mutation ConsoleUpsertSegment($input: SegmentInput!) {
    upsertSegment(input: $input) { code name description rule audienceSize }
  }
`);
