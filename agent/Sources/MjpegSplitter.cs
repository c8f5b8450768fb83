using System.Buffers.Binary;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// Cuts a byte stream of concatenated JPEGs (ffmpeg -f mjpeg, gst-launch ... ! jpegenc ! fdsink, or a
/// multipart HTTP stream) into frames. It walks the JPEG marker segments instead of searching for FF D9,
/// because FF D9 also ends embedded EXIF thumbnails; bytes between frames (multipart headers) are skipped.
/// Linear in the input whatever it holds: the frame start moves forward instead of bytes being shifted,
/// a damaged frame is given up at the point where it went wrong (its bytes are not searched again), and
/// the buffer is compacted only when it would otherwise have to grow.
/// </summary>
public sealed class MjpegSplitter(int maxFrameBytes)
{
    private byte[] _buffer = new byte[1 << 16];
    private int _start;      // first byte not yet consumed (the current frame's SOI when _inFrame)
    private int _length;     // end of the buffered bytes
    private int _position;   // parse position (absolute index) within the current frame
    private int _searched;   // bytes before this index are known to hold no SOI
    private bool _inFrame;   // _buffer[_start.._start+2] is an SOI
    private bool _inEntropy; // inside scan data, looking for the next marker

    /// <summary>Frames discarded because they grew past the size limit.</summary>
    public int Oversized { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _buffer.Length && _start > 0)
        {
            int kept = _length - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, kept);
            _position -= _start;
            _searched = Math.Max(0, _searched - _start);
            _length = kept;
            _start = 0;
        }
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
            if (_position - _start > maxFrameBytes) // the current frame alone is too big (other frames may follow it in the buffer)
            {
                Oversized++;
                GiveUpAt(Math.Min(_position, _length));
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
            if (_buffer[_position] != 0xFF) { GiveUpAt(_position); continue; } // not a marker: corrupt frame, resynchronise from here
            byte marker = _buffer[_position + 1];
            switch (marker)
            {
                case 0xFF: _position++; continue; // fill byte
                case 0xD9: // EOI: a complete frame
                    frame = _buffer.AsSpan(_start, _position + 2 - _start).ToArray();
                    GiveUpAt(_position + 2);
                    return true;
                case 0xD8: GiveUpAt(_position); continue; // a new SOI before EOI: the previous frame was cut off
                case 0x01:
                case >= 0xD0 and <= 0xD7:
                    _position += 2;
                    continue;
            }
            if (_position + 4 > _length) return false;
            int segment = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_position + 2));
            if (segment < 2) { GiveUpAt(_position); continue; }
            _position += 2 + segment;
            if (marker == 0xDA) _inEntropy = true; // SOS: scan data follows its header
        }
    }

    /// <summary>Moves to the first SOI at or after the consumed point; false when there is none yet.</summary>
    private bool FindStart()
    {
        for (int i = Math.Max(_start, _searched); i + 1 < _length; i++)
        {
            if (_buffer[i] == 0xFF && _buffer[i + 1] == 0xD8)
            {
                _start = i;
                _inFrame = true;
                _inEntropy = false;
                _position = i + 2;
                _searched = i;
                return true;
            }
        }
        _searched = Math.Max(_start, _length - 1); // a trailing FF may start an SOI
        return false;
    }

    /// <summary>Ends the current frame (complete or not) at <paramref name="index"/>; the search for the next one starts there.</summary>
    private void GiveUpAt(int index)
    {
        _start = Math.Max(index, _start + 1);
        _inFrame = false;
        _inEntropy = false;
        _position = _start;
        if (_start >= _length)
        {
            _start = _length = _position = _searched = 0; // nothing left: reuse the buffer from the front
        }
    }
}
