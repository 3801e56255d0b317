// The console's screens, one folder each: a new screen is a folder and a line here.
import type { ComponentType } from 'react';
import { AnalyticsScreen } from './analytics/AnalyticsScreen';
import { BenefitsScreen } from './benefits/BenefitsScreen';
import { CampaignsScreen } from './campaigns/CampaignsScreen';
import { ModelsScreen } from './models/ModelsScreen';
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
  /** The token scopes that open it (any one of them): its GraphQL answers only those. */
  scopes: readonly string[];
  Component: ComponentType<ScreenProps>;
}

const OPERATORS = ['operator'];

export const SCREENS: Screen[] = [
  { path: 'segments', title: 'Segments', scopes: OPERATORS, Component: SegmentsScreen },
  { path: 'page-preview', title: 'Page preview', scopes: OPERATORS, Component: PagePreviewScreen },
  { path: 'review-queue', title: 'Review queue', scopes: OPERATORS, Component: ReviewQueueScreen },
  // Mini-program builders compose flows here; an operator submits and withdraws them too.
  {
    path: 'service-flows',
    title: 'Service flows',
    scopes: ['operator', 'builder'],
    Component: ServiceFlowsScreen,
  },
  { path: 'campaigns', title: 'Campaigns', scopes: OPERATORS, Component: CampaignsScreen },
  { path: 'benefits', title: 'Benefits', scopes: OPERATORS, Component: BenefitsScreen },
  { path: 'analytics', title: 'Analytics', scopes: OPERATORS, Component: AnalyticsScreen },
  { path: 'models', title: 'Models', scopes: OPERATORS, Component: ModelsScreen },
];

/** The screens a session's scopes open, in the navigation's order. */
export const screensFor = (scopes: readonly string[]): Screen[] =>
  SCREENS.filter((screen) => screen.scopes.some((scope) => scopes.includes(scope)));
