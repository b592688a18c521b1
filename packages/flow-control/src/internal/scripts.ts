/**
 * The two Lua scripts behind RedisFlowControl. Why Lua and not a library: rate-limiter-flexible,
 * already a dependency of the controller, counts in fixed windows, which lets up to twice the
 * limit through in any interval that straddles two windows; the issue asks that no interval hold
 * more than the limit, which takes a sliding log, and it has none. redis-semaphore's semaphores
 * refresh each place on a timer of their own and cannot say when a place will free; the worker
 * renews every place in one pass with its leases. Each script is one check-and-take, atomic in
 * Redis, over a sorted set, and stays under a dozen lines.
 */

/**
 * A start under a sliding-log rate limit. KEYS[1]: the bucket's sorted set of start times.
 * ARGV: now (ms), the window (ms), the limit, a unique member. Returns -1 when the start was taken,
 * else the ms until the oldest start in the window leaves it. The key expires with its window.
 */
export const TAKE_START = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])
`;

/**
 * A place under a cap. KEYS[1]: the bucket's sorted set of holders scored by lease end. ARGV: now
 * (ms), the cap, the holder, the lease (ms). Places whose lease ended are dropped first; a holder
 * already there renews. Returns -1 when the place is held, else the ms until the first lease ends.
 * The key outlives its longest lease by nothing, so an idle key costs no memory.
 */
export const TAKE_PLACE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(first[2]) - now
`;
