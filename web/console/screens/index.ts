// The console's screens, one folder each: a new screen (analytics, campaigns, benefits) is a folder and a line here.
import type { ComponentType } from 'react';
import { CampaignsScreen } from './campaigns/CampaignsScreen';
import { PagePreviewScreen } from './page-preview/PagePreviewScreen';
import { ReviewQueueScreen } from './review-queue/ReviewQueueScreen';
import { SegmentsScreen } from './segments/SegmentsScreen';
import { ServiceFlowsScreen } from './service-flows/ServiceFlowsScreen';

export interface ScreenProps {
  /** The logged-in operator's id. */
  operator: string;
}

export interface Screen {
  /** Its path under /console. */
  path: string;
  title: string;
  Component: ComponentType<ScreenProps>;
}

export const SCREENS: Screen[] = [
  { path: 'segments', title: 'Segments', Component: SegmentsScreen },
  { path: 'page-preview', title: 'Page preview', Component: PagePreviewScreen },
  { path: 'review-queue', title: 'Review queue', Component: ReviewQueueScreen },
  { path: 'service-flows', title: 'Service flows', Component: ServiceFlowsScreen },
  { path: 'campaigns', title: 'Campaigns', Component: CampaignsScreen },
];
