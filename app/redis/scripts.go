package redis

import (
	goredis "github.com/redis/go-redis/v9"
)

// The cache's state machine lives in Lua scripts so that every step is one
// atomic operation on the server. Keys, for a book id in epoch E:
//
//	books:v2:epoch            "<run_id>:<nonce>": the current epoch (see epoch.go)
//	books:v2:E:book:<id>      the entry: "D<version>|<json>" (the book),
//	                          "T" (deleted: ids are never reused, so a
//	                          tombstone outranks every version), or
//	                          "L<token>" (a read lease: the key was empty when
//	                          a reader missed, and only that reader may fill it)
//	books:v2:E:pending:<id>   hash of in-flight writers (token → 1) plus "v",
//	                          the highest version installed while others were
//	                          in flight
//
// Every script first compares the epoch key with the epoch the instance
// believes in and answers "E" when they differ, so no instance ever serves
// or fills an entry of an epoch the server no longer vouches for.
//
// All three keys are passed as KEYS. They live in different hash slots,
// which is fine for the single-shard (cluster mode disabled) replication
// group the infrastructure deploys; cluster mode would need a hash tag.

// epochCheck is the prologue of every script but the epoch script.
const epochCheck = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'E' end
`

// readScript: KEYS epoch, entry, pending; ARGV epoch, lease token, lease ms.
// Answers the entry ("D…"/"T"), "P" (a writer is in flight: read the
// database, do not fill), "m" (another reader holds the lease: read the
// database, do not fill) or "M" (miss: this reader now holds the lease).
var readScript = goredis.NewScript(epochCheck + `
if redis.call('EXISTS', KEYS[3]) == 1 then return 'P' end
local cur = redis.call('GET', KEYS[2])
if cur then
  local c = string.sub(cur, 1, 1)
  if c == 'D' or c == 'T' then return cur end
  return 'm'
end
redis.call('SET', KEYS[2], 'L' .. ARGV[2], 'PX', ARGV[3])
return 'M'
`)

// fillScript: KEYS epoch, entry, pending; ARGV epoch, lease token, value,
// ttl ms. Stores the value read from the database only if this reader's
// lease is still in place: any write since the lease was taken replaced or
// deleted it, and an evicted or expired lease also refuses the fill.
var fillScript = goredis.NewScript(epochCheck + `
if redis.call('GET', KEYS[2]) ~= 'L' .. ARGV[2] then return 'K' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'P' end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 'OK'
`)

// markScript: KEYS epoch, entry, pending; ARGV epoch, writer token, pending
// ms. Runs before the database write: registers the writer and deletes the
// entry (and any read lease), so that until the writer installs its result
// or its mark expires, every read goes to the database and no fill lands.
// If the writer cannot install afterwards (Redis timed out, the task died),
// the entry stays absent: the next read fills it from the database.
var markScript = goredis.NewScript(epochCheck + `
redis.call('HSET', KEYS[3], ARGV[2], '1')
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
redis.call('DEL', KEYS[2])
return 'OK'
`)

// installScript: KEYS epoch, entry, pending; ARGV epoch, writer token,
// version (the tombstone passes "inf"), value, ttl ms. Runs after the
// database write: unregisters the writer, and stores the value unless an
// entry or a concurrent writer's install is at least as new. While other
// writers are still in flight nothing is stored (any of them might fail to
// install, and its newer version must not be hidden); the highest version
// is remembered so the last one to finish never stores an older one.
var installScript = goredis.NewScript(epochCheck + `
local mine = tonumber(ARGV[3])
local newest = mine
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HDEL', KEYS[3], ARGV[2])
  local seen = tonumber(redis.call('HGET', KEYS[3], 'v') or '-1')
  if seen > newest then newest = seen end
  local writers = redis.call('HLEN', KEYS[3])
  if redis.call('HEXISTS', KEYS[3], 'v') == 1 then writers = writers - 1 end
  if writers > 0 then
    redis.call('HSET', KEYS[3], 'v', tostring(newest))
    return 'P'
  end
  redis.call('DEL', KEYS[3])
end
if newest > mine then return 'K' end
local cur = redis.call('GET', KEYS[2])
if cur then
  local c = string.sub(cur, 1, 1)
  if c == 'T' then return 'K' end
  if c == 'D' and tonumber(string.match(cur, '^D(%d+)')) >= mine then return 'K' end
end
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
return 'OK'
`)

// releaseScript: KEYS epoch, entry, pending; ARGV epoch, writer token. The
// writer's database write certainly did not happen (412, 404): unregister
// it. The entry stays absent, so a 412 never leaves a stale entry behind.
var releaseScript = goredis.NewScript(epochCheck + `
if redis.call('HDEL', KEYS[3], ARGV[2]) == 1 then
  local writers = redis.call('HLEN', KEYS[3])
  if redis.call('HEXISTS', KEYS[3], 'v') == 1 then writers = writers - 1 end
  if writers == 0 then redis.call('DEL', KEYS[3]) end
end
return 'OK'
`)

// epochScript: KEYS epoch; ARGV a fresh nonce. Answers the current epoch
// "<run_id>:<nonce>". A server whose run_id differs from the one recorded
// in the epoch key is a different process than the one the epoch was
// created on — restarted from an RDB snapshot or an AOF, or a promoted
// replica — and may have lost writes that instances already acknowledged,
// so it gets a new epoch and every older entry becomes unreachable. An
// epoch key that was evicted or never written also starts a new epoch.
//
// INFO is not among ElastiCache's restricted commands
// (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ClientConfig.RestrictedCommands.html),
// and run_id is part of INFO server on Redis OSS and Valkey.
var epochScript = goredis.NewScript(`
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if not run then return redis.error_reply('INFO server has no run_id') end
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #run + 1) == run .. ':' then return cur end
local epoch = run .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], epoch)
return epoch
`)
