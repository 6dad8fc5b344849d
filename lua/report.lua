-- report.lua: small printing helpers scenarios share (require "report").
local report = {}

-- Prints one line about a finished run: how to look at its numbers.
function report.summary(run, episodes)
  print(string.format("run %d: %d episodes recorded; see `daydream show %d`",
                      run.id, episodes, run.id))
end

return report
