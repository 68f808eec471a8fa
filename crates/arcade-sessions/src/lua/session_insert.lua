-- Store a new session with its inputs, unless a session of its id is stored already.
--
-- KEYS[1] the session (hash: rev, head), KEYS[2] its inputs (list), KEYS[3] the sessions by
-- the time they may be forgotten, KEYS[4] the game's set of active sessions, KEYS[5] the set of
-- games
-- ARGV[1] the head (JSON), ARGV[2] when the session may be forgotten (ms), ARGV[3] the session
-- id, ARGV[4] when it expires (ms), or "" for a finished session (not active), ARGV[5] the
-- game, ARGV[6..] its inputs (8 bytes each)
-- Returns 1 when stored, 0 when a session of that id was there.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'rev', 1, 'head', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
if #ARGV > 5 then
  for i = 6, #ARGV, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
  redis.call('SADD', KEYS[5], ARGV[5])
end
return 1
