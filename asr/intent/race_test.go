//go:build race

package intent

func init() { raceEnabled = true }
