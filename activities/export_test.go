package activities

// SetCrashAt makes deliver call f at each of its crash points ("before-commit", "after-commit",
// "after-accept"); nil removes it. Set it before any delivery runs.
func SetCrashAt(f func(point string)) { crashAt = f }
