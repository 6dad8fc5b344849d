-- schedules.lua: learning-rate (or any scalar) schedules for scenarios.
-- Each returns a function of the step t = 0, 1, 2, ... (require "schedules").
local schedules = {}

-- Constant value.
function schedules.constant(value)
  return function() return value end
end

-- Linear from `from` to `to` over `steps`, then held at `to`.
function schedules.linear(from, to, steps)
  return function(t)
    if t >= steps then return to end
    return from + (to - from) * t / steps
  end
end

-- Cosine decay from `from` to `to` over `steps` (Loshchilov & Hutter).
function schedules.cosine(from, to, steps)
  return function(t)
    if t >= steps then return to end
    return to + 0.5 * (from - to) * (1 + math.cos(math.pi * t / steps))
  end
end

-- Multiplies by `factor` every `every` steps.
function schedules.step(from, factor, every)
  return function(t)
    return from * factor ^ (t // every)
  end
end

return schedules
