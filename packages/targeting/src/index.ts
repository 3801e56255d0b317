export * from './rule';
export * from './evaluate';
export * from './instant';
