//go:build !race

package hostile

// raceRSS is zero without the race detector (see race_test.go).
const raceRSS = 0
