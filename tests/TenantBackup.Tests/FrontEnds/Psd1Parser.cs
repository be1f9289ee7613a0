using System.Text;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// A strict reader for the subset of PowerShell data files a module manifest uses: one hashtable literal
/// (<c>@{ Key = value }</c>) whose values are single- or double-quoted strings without expansion, arrays (<c>@(...)</c> or
/// <c>'a', 'b'</c>) and nested hashtables; <c>#</c> and <c>&lt;# #&gt;</c> comments. Anything else is an error, so a
/// manifest that would need PowerShell to evaluate it fails the tests instead of being half read.
/// </summary>
/// <remarks>Strings come back as <see cref="string"/>, arrays as <see cref="List{T}"/> of values, hashtables as
/// case-insensitive dictionaries (as PowerShell's are).</remarks>
internal sealed class Psd1Parser
{
    private readonly string _text;
    private int _pos;

    private Psd1Parser(string text) => _text = text;

    public static Dictionary<string, object> Parse(string text)
    {
        var parser = new Psd1Parser(text);
        parser.SkipTrivia(newlines: true);
        var result = parser.ReadHashtable();
        parser.SkipTrivia(newlines: true);
        if (parser._pos != text.Length)
        {
            throw parser.Error("text after the closing '}'");
        }

        return result;
    }

    private Dictionary<string, object> ReadHashtable()
    {
        Expect("@{");
        var table = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            SkipTrivia(newlines: true);
            if (TryConsume("}"))
            {
                return table;
            }

            var key = ReadKey();
            SkipTrivia(newlines: false);
            Expect("=");
            SkipTrivia(newlines: false);
            var value = ReadValue();
            if (!table.TryAdd(key, value))
            {
                throw Error($"duplicate key '{key}'");
            }

            // Entries end with a newline, a ';' or the closing brace.
            SkipTrivia(newlines: false);
            if (TryConsume(";") || Peek() is '\n' or '\r' || Peek() == '}')
            {
                continue;
            }

            throw Error("expected a newline, ';' or '}' after a value");
        }
    }

    private object ReadValue()
    {
        var first = ReadSingleValue();
        SkipTrivia(newlines: false);
        if (Peek() != ',')
        {
            return first;
        }

        // A bare comma list is an array.
        var items = new List<object> { first };
        while (TryConsume(","))
        {
            SkipTrivia(newlines: true);
            items.Add(ReadSingleValue());
            SkipTrivia(newlines: false);
        }

        return items;
    }

    private object ReadSingleValue()
    {
        if (Starts("@{"))
        {
            return ReadHashtable();
        }

        if (Starts("@("))
        {
            return ReadArray();
        }

        return Peek() switch
        {
            '\'' => ReadSingleQuoted(),
            '"' => ReadDoubleQuoted(),
            _ => throw Error("expected a quoted string, @( ) or @{ }"),
        };
    }

    private List<object> ReadArray()
    {
        Expect("@(");
        var items = new List<object>();
        SkipTrivia(newlines: true);
        if (TryConsume(")"))
        {
            return items;
        }

        while (true)
        {
            items.Add(ReadSingleValue());
            SkipTrivia(newlines: true);
            if (TryConsume(")"))
            {
                return items;
            }

            if (!TryConsume(","))
            {
                throw Error("expected ',' or ')' in an array");
            }

            SkipTrivia(newlines: true);
        }
    }

    private string ReadKey()
    {
        if (Peek() == '\'')
        {
            return ReadSingleQuoted();
        }

        var start = _pos;
        while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
        {
            _pos++;
        }

        if (_pos == start)
        {
            throw Error("expected a key");
        }

        return _text[start.._pos];
    }

    private string ReadSingleQuoted()
    {
        Expect("'");
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error("unterminated string");
            }

            var c = _text[_pos++];
            if (c != '\'')
            {
                value.Append(c);
            }
            else if (Peek() == '\'')
            {
                value.Append('\'');
                _pos++;
            }
            else
            {
                return value.ToString();
            }
        }
    }

    private string ReadDoubleQuoted()
    {
        Expect("\"");
        var start = _pos;
        var end = _text.IndexOf('"', _pos);
        if (end < 0)
        {
            throw Error("unterminated string");
        }

        var value = _text[start..end];
        if (value.Contains('$') || value.Contains('`'))
        {
            throw Error("expandable strings are not allowed in a data file; use single quotes");
        }

        _pos = end + 1;
        return value;
    }

    private void SkipTrivia(bool newlines)
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c is ' ' or '\t' || (newlines && c is '\r' or '\n') || c == '\uFEFF')
            {
                _pos++;
            }
            else if (Starts("<#"))
            {
                var end = _text.IndexOf("#>", _pos + 2, StringComparison.Ordinal);
                _pos = end < 0 ? throw Error("unterminated block comment") : end + 2;
            }
            else if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private bool Starts(string token) => string.CompareOrdinal(_text, _pos, token, 0, token.Length) == 0;

    private bool TryConsume(string token)
    {
        if (!Starts(token))
        {
            return false;
        }

        _pos += token.Length;
        return true;
    }

    private void Expect(string token)
    {
        if (!TryConsume(token))
        {
            throw Error($"expected '{token}'");
        }
    }

    private FormatException Error(string what)
    {
        var line = 1 + _text.AsSpan(0, Math.Min(_pos, _text.Length)).Count('\n');
        return new FormatException($"psd1 line {line}: {what}.");
    }
}
