// Instants as the console writes them: to the minute, in UTC, so that every operator reads the same time.
export const minute = (instant: string) => `${instant.slice(0, 16).replace('T', ' ')} UTC`;
