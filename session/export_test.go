package session

// DecodeEncoded and DecodeJSON are DecodeRecord's two readers, for
// FuzzDecodeRecord to compare.
func DecodeEncoded(data []byte) (*Record, bool) {
	rec := new(Record)
	ok := decodeEncoded(rec, data)
	return rec, ok
}

var (
	DecodeJSON = decodeJSON
	Marshal    = marshal
)
