// Where a live stream stands, read from its schedule at the time asked: a stream goes on air and ends without anyone
// writing its state, so a channel never shows a stream as upcoming after it started, or as on air after it ended.
import type { LiveStatus, LiveStreamDoc } from '../models/media';

export function liveStatus(stream: Pick<LiveStreamDoc, 'startsAt' | 'endsAt'>, now: Date): LiveStatus {
  if (now < stream.startsAt) return 'SCHEDULED';
  return now < stream.endsAt ? 'LIVE' : 'ENDED';
}
