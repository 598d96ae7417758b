// Picks the bus from configuration: Redis when REDIS_URL is set, else in-memory.
import type { Bus, BusErrorReporter } from './bus.js';
import { MemoryBus } from './memory.js';
import { RedisBus } from './redis.js';

export function createBus(redisUrl: string | undefined, report?: BusErrorReporter): Bus {
  return redisUrl ? new RedisBus(redisUrl, report) : new MemoryBus(report);
}
