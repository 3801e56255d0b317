export * from './rule';
export * from './evaluate';
export * from './variants';
export * from './instant';
export * from './lifecycle';
export * from './references';
export * from './activity-ranking';
