// Package ini reads PasteDeploy config files: the syntax of Python's
// configparser.ConfigParser exactly as PasteDeploy's NicerConfigParser
// configures it (Python 3.11), and nothing of PasteDeploy's meaning, which
// package deploy adds on top.
//
// Supported, as Python does it:
//
//   - [section] headers; the name is everything between the first "[" and
//     the last "]" of the line, spaces, colons and "#" included ("[app:main]",
//     "[ odd name ]"); text after the last "]" is ignored. [DEFAULT] (exact
//     case) holds keys every section sees; it may appear more than once.
//   - "key = value" and "key: value"; the first "=" or ":" splits. Keys are
//     case-sensitive (optionxform = str) and stripped; values are stripped.
//   - Continuation lines: a line indented deeper than its key's line
//     continues the value. Blank lines inside a value are kept ("\n\n"),
//     trailing ones dropped; lines are joined with "\n".
//   - Comments: lines whose first non-space character is "#" or ";",
//     indented or not, also inside a continued value (they are skipped and
//     do not end it). There are no inline comments: "a = b ; c" is "b ; c".
//   - Line ends "\n", "\r\n" and "\r" (Python's universal newlines);
//     whitespace is Python's (str.isspace, which adds U+001C..U+001F to Go's
//     unicode.IsSpace); indentation counts characters, a tab is one.
//   - Strict mode: a duplicate section or a duplicate key within a section
//     is an error, as is a key before any header and a line with neither
//     "=" nor ":".
//   - BasicInterpolation ([Interpolate], [File.Values]): "%(name)s" and
//     "%%", values looked up in the section, then [DEFAULT], then the
//     caller's defaults ("here", "__file__"), nesting up to 10 levels.
//
// Parse reports every error of a file at once (errors.Join); where Python
// stops at the first fatal one, Parse keeps going. The testdata corpus is
// checked against Python's own parser (go test -run TestGolden -update
// regenerates the goldens with /usr/bin/python3).
//
// One consequence of the first-delimiter rule matters to Paste's urlmap: a
// key like "http://host/prefix = app" is read, by Python too, as the key
// "http" with the value "//host/prefix = app".
//
// [Write] writes a File back in a canonical layout (comments and spacing are
// not kept) that Parse reads to the same sections, keys and raw values.
// A parsed File is not changed by its methods and is safe for concurrent
// reads.
//
// Not supported: inline comments, keys without values (allow_no_value),
// ExtendedInterpolation's ${section:key}, other delimiters or comment
// prefixes, non-strict mode, encodings other than UTF-8 (invalid UTF-8 is
// an error, as it is for Python in a UTF-8 locale), and a UTF-8 byte order
// mark (Python reads it as part of the first line, which then is not a
// header). Files larger than 16 MiB and lines longer than 1 MiB are
// rejected with ErrTooLarge.
package ini
