export default async function globalTeardown(): Promise<void> {
  await globalThis.__HUB_MONGO__?.stop();
}
