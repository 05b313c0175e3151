// The stand-ins' clock. The controllers only move when some kubectl/kubeadm call runs, so
// timed behaviour (HPA sync period and stabilization, a Ray job's duration, crash-loop
// back-off) is measured against this clock. Unit tests replace now/sleep to drive time
// instead of sleeping; everything else uses the real clock.
export const clock = {
  now: (): number => Date.now(),
  sleep: (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)),
}
