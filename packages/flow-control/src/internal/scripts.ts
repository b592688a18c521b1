/**
 * The two Lua scripts behind RedisFlowControl. Why Lua and not a library: rate-limiter-flexible,
 * already a dependency of the controller, counts in fixed windows, which lets up to twice the
 * limit through in any interval that straddles two windows; the issue asks that no interval hold
 * more than the limit, which takes a sliding log, and it has none. redis-semaphore's semaphores
 * refresh each place on a timer of their own and cannot say when a place will free; the worker
 * renews every place in one pass with its leases. Each script is one check-and-take, atomic in
 * Redis, over a sorted set, and stays under a dozen lines. A single start is a batch of one.
 *
 * Time: ARGV[1] is the caller's clock, or empty for Redis's own (TIME). The fleet uses Redis's: one
 * clock for every process, read at the instant the script runs, so a start is counted when it is
 * granted, not when a busy process sent the request (measured: with the sender's time, requests
 * that waited ~100 ms on their way let 69 starts into one second under a limit of 50).
 */
const NOW = `local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Up to `count` starts under a sliding-log rate limit, in one call: a worker holding several
 * deliveries asks once for all of them (measured in the drain-limited benchmark: one call per
 * start, each delivery waiting for the one before it, made a drain 48 % slower). KEYS[1]: the
 * bucket's sorted set of start times. ARGV: now (ms, or empty), the window (ms), the limit, a
 * member prefix unique to the call, the count asked, the spare starts asked (granted all or none,
 * only when every start asked was and the window stays at most a quarter full). Returns
 * { granted, ms until the oldest start in the window leaves it or -1 when every start asked was
 * granted, spare granted }. The key expires with its window. One ZADD per start: the count is
 * bounded by the caller (MAX_STARTS_PER_CALL).
 */
export const TAKE_STARTS = `${NOW}
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local asked = tonumber(ARGV[5])
local held = redis.call('ZCARD', KEYS[1])
local granted = math.max(0, math.min(asked, max - held))
local spare = tonumber(ARGV[6])
if granted < asked or held + granted + spare > max / 4 then spare = 0 end
for i = 1, granted + spare do redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i) end
if granted + spare > 0 then redis.call('PEXPIRE', KEYS[1], window) end
if granted == asked then return { granted, -1, spare } end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return { granted, tonumber(oldest[2]) + window - now, 0 }
`;

/**
 * A place under a cap. KEYS[1]: the bucket's sorted set of holders scored by lease end. ARGV: now
 * (ms, or empty), the cap, the holder, the lease (ms). Places whose lease ended are dropped first; a holder
 * already there renews. Returns -1 when the place is held, else the ms until the first lease ends.
 * The key outlives its longest lease by nothing, so an idle key costs no memory.
 */
export const TAKE_PLACE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(first[2]) - now
`;
