-- wrk script: each connection pauses PAUSE_MS (default 2) after every answer before its next
-- request, so the rate is set by the number of connections instead of by the server's peak.
-- Requests ask for compressed bodies, as browsers do.
local pause = tonumber(os.getenv("PAUSE_MS") or "2")
wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"

function delay()
    return pause
end
