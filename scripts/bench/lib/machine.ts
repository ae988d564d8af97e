/**
 * How busy the whole machine was, from /proc/stat: the benchmark shares its cores
 * with whatever else runs, and says how much that was.
 */
import { readFileSync } from 'node:fs'

const CLOCK_TICKS = 100 // USER_HZ

/** CPU seconds spent so far by the whole machine, busy (user, nice, system, irq, softirq) and stolen by the hypervisor. */
export function machineCpu(): { busySeconds: number; stealSeconds: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[]
  return { busySeconds: (user! + nice! + system! + irq! + softirq!) / CLOCK_TICKS, stealSeconds: (steal ?? 0) / CLOCK_TICKS }
}

/** This Node process's own CPU seconds (user + system). */
export function selfCpuSeconds(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}
