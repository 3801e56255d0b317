// Opens every content repository on one database connection and makes sure its indexes exist.
import type { Connection } from 'mongoose';
import { AuditLog } from '@bank-hub/shared';
import { CreativeRepository, creativeSchema, type CreativeDoc } from './creative';
import {
  LiveStreamRepository,
  TopicRepository,
  VideoRepository,
  liveStreamSchema,
  topicSchema,
  videoSchema,
  type LiveStreamDoc,
  type TopicDoc,
  type VideoDoc,
} from './media';
import { PageRepository, pageSchema, type StoredPage } from './page';

export interface ContentRepositories {
  pages: PageRepository;
  creatives: CreativeRepository;
  topics: TopicRepository;
  liveStreams: LiveStreamRepository;
  videos: VideoRepository;
  audit: AuditLog;
}

export async function openRepositories(connection: Connection): Promise<ContentRepositories> {
  const repositories: ContentRepositories = {
    pages: new PageRepository(connection.model<StoredPage>('Page', pageSchema)),
    creatives: new CreativeRepository(connection.model<CreativeDoc>('Creative', creativeSchema)),
    topics: new TopicRepository(connection.model<TopicDoc>('Topic', topicSchema)),
    liveStreams: new LiveStreamRepository(connection.model<LiveStreamDoc>('LiveStream', liveStreamSchema)),
    videos: new VideoRepository(connection.model<VideoDoc>('Video', videoSchema)),
    audit: AuditLog.open(connection),
  };
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  await repositories.pages.releaseArchivedAddresses();
  await repositories.liveStreams.scheduleEnds();
  await repositories.topics.adoptImported();
  return repositories;
}
