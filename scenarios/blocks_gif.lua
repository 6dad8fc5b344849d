-- blocks_gif.lua: an animated GIF from RGB frames, in pure Lua, for the
-- scenarios until the host's dd module exposes libdaydream's C writer
-- (daydream/gif.h). Same file format: a fixed 6x7x6 colour cube, LZW codes
-- emitted exactly as giflib's encoder does, looping forever.
--
--   local gif = require("blocks_gif")
--   local bytes = gif.encode({rgb1, rgb2, ...}, width, height, delay_cs)

local M = {}

-- The palette: 6 reds x 7 greens x 6 blues (252 entries), padded to 256.
local function cube_palette()
  local t = {}
  for r = 0, 5 do
    for g = 0, 6 do
      for b = 0, 5 do
        t[#t + 1] = string.char(r * 255 // 5, g * 255 // 6, b * 255 // 5)
      end
    end
  end
  for _ = 253, 256 do t[#t + 1] = "\0\0\0" end
  return table.concat(t)
end

-- Palette indices of one frame (an RGB byte string), row by row.
local function indices(rgb, width, height)
  local idx, n = {}, 0
  local row = 3 * width
  for y = 0, height - 1 do
    local px = { string.byte(rgb, y * row + 1, y * row + row) }
    for i = 1, row, 3 do
      n = n + 1
      idx[n] = ((px[i] * 5 + 127) // 255) * 42 + ((px[i + 1] * 6 + 127) // 255) * 6
               + (px[i + 2] * 5 + 127) // 255
    end
  end
  return idx, n
end

-- LZW with 8-bit roots: the code width grows after a code is written once
-- the next free code reaches it, and the table restarts (a clear code)
-- before it would pass 4095, as the GIF spec and giflib have it.
local function lzw(idx, n)
  local CLEAR, EOI = 256, 257
  local out, acc, nbits = {}, 0, 0
  local dict, next_code, size = {}, 258, 9
  local function emit(code)
    acc = acc | (code << nbits)
    nbits = nbits + size
    while nbits >= 8 do
      out[#out + 1] = string.char(acc & 255)
      acc = acc >> 8
      nbits = nbits - 8
    end
    if next_code >= (1 << size) and size < 12 then size = size + 1 end
  end
  emit(CLEAR)
  local prefix = idx[1]
  for i = 2, n do
    local k = idx[i]
    local key = prefix * 256 + k
    local code = dict[key]
    if code then
      prefix = code
    else
      emit(prefix)
      prefix = k
      if next_code >= 4094 then
        emit(CLEAR)
        dict, next_code, size = {}, 258, 9
      else
        dict[key] = next_code
        next_code = next_code + 1
      end
    end
  end
  emit(prefix)
  emit(EOI)
  if nbits > 0 then out[#out + 1] = string.char(acc & 255) end
  return table.concat(out)
end

-- Data cut into sub-blocks of at most 255 bytes, ended by an empty one.
local function sub_blocks(data)
  local t = {}
  for i = 1, #data, 255 do
    local chunk = data:sub(i, i + 254)
    t[#t + 1] = string.char(#chunk) .. chunk
  end
  t[#t + 1] = "\0"
  return table.concat(t)
end

function M.encode(frames, width, height, delay_cs)
  assert(#frames > 0, "blocks_gif.encode: no frames")
  local parts = {
    "GIF89a", string.pack("<I2I2BBB", width, height, 0xF7, 0, 0), cube_palette(),
    "\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00",   -- loop forever
  }
  for _, rgb in ipairs(frames) do
    assert(#rgb == 3 * width * height, "blocks_gif.encode: a frame has the wrong size")
    parts[#parts + 1] = "\x21\xF9\x04\x04" .. string.pack("<I2", delay_cs) .. "\0\0"
    parts[#parts + 1] = "\x2C" .. string.pack("<I2I2I2I2B", 0, 0, width, height, 0)
    parts[#parts + 1] = "\x08" .. sub_blocks(lzw(indices(rgb, width, height)))
  end
  parts[#parts + 1] = ";"
  return table.concat(parts)
end

return M
