// What of the media library may reach members. Live streams and videos come into the library from outside the hub's
// checked mutations (the seed, imports from the bank's media systems), and topics may too (operators' own are checked
// by domain/topic.ts), so before one is placed on a page, listed, approved or referenced by a creative, it is held to the rules operators' own text and links are: https URLs only (no
// javascript: or data: cover a channel could render), and no control or invisible formatting characters (a
// bidirectional override shows members a title other than the one stored), and a live stream must not end before it
// starts (one that does is never on air: announced as scheduled, it would silently never come).
import { HTTPS_URL, InputProblem, visibleText } from '@bank-hub/shared';
import type { LiveStreamDoc, TopicFields, VideoDoc } from '../models/media';

type Shown = { TOPIC: TopicFields; LIVE: LiveStreamDoc; VIDEO: VideoDoc };

/** The fields a member reads of each kind: text, and URLs a channel loads or opens. */
const READ: { [K in keyof Shown]: { text: readonly (keyof Shown[K])[]; urls: readonly (keyof Shown[K])[] } } =
  {
    TOPIC: { text: ['title', 'summary', 'tags'], urls: ['coverUrl'] },
    LIVE: { text: ['title', 'host'], urls: ['coverUrl'] },
    VIDEO: { text: ['title'], urls: ['coverUrl', 'url'] },
  };

function hiddenCharacter(value: string, field: string): string | null {
  try {
    visibleText(value, field);
    return null;
  } catch (error) {
    if (error instanceof InputProblem) return error.message;
    throw error;
  }
}

/** What a kind must hold beyond its text and URLs, as the reason when it does not. */
const INCONSISTENT: { [K in keyof Shown]?: (media: Shown[K]) => string | null } = {
  // Not `endsAt < startsAt`: an invalid or missing date compares false both ways, and must fail too. An end at the
  // start is allowed: it is how a stream stored as ENDED before streams had an end was given one (scheduleEnds).
  LIVE: (stream) => (stream.endsAt >= stream.startsAt ? null : 'its endsAt is before its startsAt'),
};

/**
 * Why a topic, live stream or video must not be shown to members (an unsafe URL, hidden characters, a live stream that
 * ends before it starts), or null.
 */
export function unsafeMedia<K extends keyof Shown>(kind: K, media: Shown[K]): string | null {
  const { text, urls } = READ[kind];
  const inconsistent = INCONSISTENT[kind]?.(media);
  if (inconsistent) return inconsistent;
  for (const field of urls) {
    const value = media[field];
    if (typeof value !== 'string' || !HTTPS_URL.test(value))
      return `its ${String(field)} is not an https URL`;
  }
  for (const field of text) {
    const value = media[field];
    for (const item of Array.isArray(value) ? value : [value]) {
      const problem = typeof item === 'string' ? hiddenCharacter(item, String(field)) : null;
      if (problem) return problem;
    }
  }
  return null;
}

/** A video is shown from its publication on: one given a later date (a replay due out) is not out yet. */
export const videoReleased = (video: Pick<VideoDoc, 'publishedAt'>, now: Date): boolean =>
  video.publishedAt <= now;
