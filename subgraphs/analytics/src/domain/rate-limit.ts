// How many events one device may send per minute, counted in this process. Fixed one-minute windows: cheap, and the
// map holds only the devices of the current minute.

export class DeviceRateLimit {
  private window = -1;
  private readonly used = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  /** How many of `wanted` events the device may send now (0 to wanted); those are counted. */
  take(deviceId: string, wanted: number, now: Date): number {
    const window = Math.floor(now.getTime() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.used.clear();
    }
    const used = this.used.get(deviceId) ?? 0;
    const granted = Math.max(0, Math.min(wanted, this.perMinute - used));
    this.used.set(deviceId, used + granted);
    return granted;
  }
}
