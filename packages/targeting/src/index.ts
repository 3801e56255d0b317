export * from './rule';
export * from './evaluate';
