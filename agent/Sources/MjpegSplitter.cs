using System.Buffers.Binary;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// Cuts a byte stream of concatenated JPEGs (ffmpeg -f mjpeg, gst-launch ... ! jpegenc ! fdsink, or a
/// multipart HTTP stream) into frames. It walks the JPEG marker segments instead of searching for FF D9,
/// because FF D9 also ends embedded EXIF thumbnails; bytes between frames (multipart headers) are skipped.
/// </summary>
public sealed class MjpegSplitter(int maxFrameBytes)
{
    private byte[] _buffer = new byte[1 << 16];
    private int _length;    // bytes in the buffer
    private int _position;  // parse position within the current frame
    private bool _inFrame;  // buffer[0..2] is an SOI
    private bool _inEntropy; // inside scan data, looking for the next marker

    /// <summary>Frames discarded because they grew past the size limit.</summary>
    public int Oversized { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + data.Length));
        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>Takes the next complete frame, or returns false when more bytes are needed.</summary>
    public bool TryTake(out byte[] frame)
    {
        frame = [];
        while (true)
        {
            if (!_inFrame && !FindStart()) return false;
            if (_position > maxFrameBytes) // the current frame alone is too big (other frames may follow it in the buffer)
            {
                Oversized++;
                Discard(1); // resynchronise on the next SOI
                continue;
            }
            if (_inEntropy)
            {
                int i = _position;
                if (i >= _length) return false; // the scan header has not fully arrived
                while (true)
                {
                    int ff = Array.IndexOf(_buffer, (byte)0xFF, i, _length - i);
                    if (ff < 0 || ff + 1 >= _length)
                    {
                        _position = ff < 0 ? _length : ff; // resume here when more bytes arrive
                        return false;
                    }
                    byte next = _buffer[ff + 1];
                    if (next == 0x00 || next is >= 0xD0 and <= 0xD7 || next == 0xFF) { i = ff + 1; continue; } // stuffing, restart markers, fill
                    _position = ff;
                    _inEntropy = false;
                    break;
                }
            }
            if (_position + 1 >= _length) return false;
            if (_buffer[_position] != 0xFF) { Discard(1); continue; } // not a marker: corrupt frame, resynchronise
            byte marker = _buffer[_position + 1];
            switch (marker)
            {
                case 0xFF: _position++; continue; // fill byte
                case 0xD9: // EOI: a complete frame
                    frame = _buffer.AsSpan(0, _position + 2).ToArray();
                    Discard(_position + 2);
                    return true;
                case 0xD8: Discard(_position); continue; // a new SOI before EOI: the previous frame was cut off
                case 0x01:
                case >= 0xD0 and <= 0xD7:
                    _position += 2;
                    continue;
            }
            if (_position + 4 > _length) return false;
            int segment = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_position + 2));
            if (segment < 2) { Discard(1); continue; }
            _position += 2 + segment;
            if (marker == 0xDA) _inEntropy = true; // SOS: scan data follows its header
        }
    }

    /// <summary>Moves to the first SOI in the buffer; false when there is none yet.</summary>
    private bool FindStart()
    {
        for (int i = 0; i + 1 < _length; i++)
        {
            if (_buffer[i] == 0xFF && _buffer[i + 1] == 0xD8)
            {
                Shift(i);
                _inFrame = true;
                _inEntropy = false;
                _position = 2;
                return true;
            }
        }
        Shift(Math.Max(0, _length - 1)); // keep a trailing FF that may start an SOI
        return false;
    }

    /// <summary>Drops <paramref name="count"/> bytes from the front and looks for a new frame start.</summary>
    private void Discard(int count)
    {
        Shift(count);
        _inFrame = false;
        _inEntropy = false;
        _position = 0;
    }

    private void Shift(int count)
    {
        if (count <= 0) return;
        Buffer.BlockCopy(_buffer, count, _buffer, 0, _length - count);
        _length -= count;
    }
}
