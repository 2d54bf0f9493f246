//go:build race

package hostile

// raceRSS is what the race detector adds to rssMargin: the state it keeps
// for the goroutines a run created (one or two per connection), which it
// does not return to the OS. Measured: the first server's run grew by
// about 40 MiB under -race after the warm-up, the later ones by 8 to
// 16 MiB; without -race every run stays within 1 MiB.
const raceRSS = 64 << 20
