-- A long-lived "service" for tests/realworld/lua.sh: reads one command per
-- line on stdin and answers each with one line on stdout, once done:
--
--   work N   N iterations; answers "done N ITERS CHECKSUM" (ITERS: all
--            iterations so far, CHECKSUM: of this batch, deterministic)
--   counts   what one iteration does, for the script's exact counts:
--            "counts errors=E throws=T resumes=R yields=Y pcalls=P ..."
--            (PER_ITER below)
--   quit     answers "bye" and ends
--
-- Each iteration, in this order:
--   * rawequal(): a marker, always called from the same level;
--   * three errors, each caught by pcall or xpcall: one thrown with error()
--     from a gsub callback three Lua frames deep (so the longjmp unwinds
--     str_gsub and the C frames around it), one thrown with an error table
--     from a table.sort comparator (auxsort, sort_comp unwound), one raised
--     by the VM itself (indexing a nil field) under an xpcall whose message
--     handler runs before the throw;
--   * a coroutine that yields 3 times, each time across a pcall (the
--     pcall's C frame is left by the yield's longjmp and finished by its
--     continuation), with an error() inside the second of those pcalls
--     (inside a coroutine it is caught by lua_resume's setjmp and recovered
--     there), resumed 4 times;
--   * a coroutine.wrap generator: 2 yields, 3 resumes;
--   * string work (format, rep, gsub, byte, concat) and table work (insert,
--     sort, remove, concat);
--   * rawlen(): a second marker, from the same level as rawequal().
-- No pairs() over string keys, no time, no addresses: the checksum of a
-- batch depends on the iterations done before it and on nothing else.

-- What one iteration does, as the C functions that do it count it:
--   errors    luaG_errormsg(): error() 3 times, the VM's own error once
--   throws    luaD_throw(): every error, and every yield (lua_yieldk() of a
--             C function throws LUA_YIELD back to lua_resume()'s setjmp)
--   resumes   lua_resume(): 4 coroutine.resume + 3 calls of the generator
--   yields    lua_yieldk() and luaB_yield()
--   pcalls    luaB_pcall(): 2 here, 3 inside the coroutine
--   coresumes luaB_coresume(), wraps auxwrap(), xpcalls luaB_xpcall(),
--   error_calls luaB_error()
local PER_ITER = { errors = 4, throws = 4 + 5, resumes = 4 + 3, yields = 3 + 2, pcalls = 2 + 3,
	coresumes = 4, wraps = 3, xpcalls = 1, error_calls = 3 }
local COUNT_KEYS = { "errors", "throws", "resumes", "yields", "pcalls", "coresumes", "wraps",
	"xpcalls", "error_calls" }

local M = 2147483629
local function mix(cs, x) return (cs * 31 + x) % M end

-- errors thrown a few Lua frames deep, through C frames
local function level3(s, n)
	if n % 3 == 0 or #s > 0 then error("level3 failed on " .. s .. " at " .. n) end
	return s
end
local function level2(s, n) return (level3(s, n)) end
local function level1(str, n)
	-- the callback runs under str_gsub -> add_value -> lua_call
	local r = string.gsub(str, "%a+", function(w) return level2(w, n) end)
	return r
end

local function cmp_or_fail(limit)
	local calls = 0
	return function(a, b)
		calls = calls + 1
		if calls > limit then error({ where = "sort", calls = calls }) end
		return a < b
	end
end

local function handler(m) return "handled: " .. tostring(m) end
local function index_missing(t) return t.missing.field end

local co_body = function(a)
	local s = a
	for k = 1, 3 do
		local ok, v = pcall(function()
			local r = coroutine.yield(s + k)   -- yields across this pcall
			if k == 2 then error("inner " .. k .. " " .. r) end
			return r * 2
		end)
		if ok then s = s + v else s = s + #v end
	end
	return s
end

local function iteration(seq, cs)
	assert(rawequal(seq, seq))                        -- marker 1

	-- 1. error() from a gsub callback, three Lua frames down
	local ok, msg = pcall(level1, "alpha beta", seq)
	assert(not ok)
	cs = mix(cs, #msg)
	-- 2. error table from a table.sort comparator
	local t = {}
	for k = 1, 40 do t[k] = (seq * 7 + k * 13) % 101 end
	ok, msg = pcall(table.sort, t, cmp_or_fail(20 + seq % 7))
	assert(not ok and type(msg) == "table")
	cs = mix(cs, msg.calls)
	-- 3. an error the VM raises (indexing nil), under xpcall with a handler
	ok, msg = xpcall(index_missing, handler, t)
	assert(not ok)
	cs = mix(cs, #msg)

	-- 4. a coroutine yielding across pcall, one error inside it
	local co = coroutine.create(co_body)
	local ok2, v = coroutine.resume(co, seq % 1000)
	local n = 0
	while coroutine.status(co) ~= "dead" do
		assert(ok2)
		n = n + 1
		cs = mix(cs, v)
		ok2, v = coroutine.resume(co, n * 10)
	end
	assert(ok2 and n == 3)
	cs = mix(cs, v)
	-- 5. a generator
	local gen = coroutine.wrap(function(x)
		coroutine.yield(x + 1)
		coroutine.yield(x + 2)
		return x + 3
	end)
	cs = mix(cs, gen(seq % 100) + gen() + gen())

	-- 6. string work
	local parts = {}
	for k = 1, 8 do
		parts[k] = string.format("%05d:%s", (seq * k) % 99991, string.rep("ab", k % 4))
	end
	local s = table.concat(parts, ",")
	local up = s:gsub("b", "B")
	for k = 1, #up, 7 do cs = mix(cs, up:byte(k)) end
	-- 7. table work
	local q = {}
	for k = 1, 30 do table.insert(q, (seq + k * k) % 97) end
	table.sort(q)
	for _ = 1, 5 do cs = mix(cs, table.remove(q, 1)) end
	cs = mix(cs, #table.concat(q, " "))

	assert(rawlen(q) == 25)                           -- marker 2
	return cs
end

local done = 0
io.stdout:setvbuf("line")
io.write("ready\n")
for line in io.lines() do
	local cmd, arg = line:match("^(%a+)%s*(%d*)$")
	if cmd == "work" then
		local n = tonumber(arg)
		local cs = 7
		for i = 1, n do cs = iteration(done + i, cs) end
		done = done + n
		io.write(string.format("done %d %d %d\n", n, done, cs))
	elseif cmd == "counts" then
		local out = {}
		for k, key in ipairs(COUNT_KEYS) do out[k] = key .. "=" .. PER_ITER[key] end
		io.write("counts " .. table.concat(out, " ") .. "\n")
	elseif cmd == "quit" then
		io.write("bye\n")
		break
	else
		io.write("error unknown command: " .. line .. "\n")
	end
end
