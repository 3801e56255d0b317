// What the segments screen asks members: the segments, what rules can test, an audience preview, and saving.
import { document } from '../../app/document';
import type { Rule } from './rule';

export interface SegmentSummary {
  code: string;
  name: string;
  description: string | null;
  rule: unknown;
  audienceSize: number;
  /** What an edit of the segment names as the version it was made from. */
  version: number;
}

export const SEGMENTS = document<{
  segments: SegmentSummary[];
  tagDefinitions: { code: string; name: string; valueType: string }[];
  membershipLevels: { code: string; name: string }[];
}>(`
  query ConsoleSegments {
    segments { code name description rule audienceSize version }
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
  {
    input: { code: string; name: string; description: string | null; rule: unknown };
    /** Null to create a segment; a segment changed since this version is not replaced (CONFLICT). */
    expectedVersion: number | null;
  }
>(`
  mutation ConsoleUpsertSegment($input: SegmentInput!, $expectedVersion: Int) {
    upsertSegment(input: $input, expectedVersion: $expectedVersion) { code name description rule audienceSize version }
  }
`);
