using Xunit;

// One test class at a time. The end-to-end tests stop a child process at exact points and the cmdlet tests stop a real
// PowerShell pipeline; on a 2-core machine, other classes running beside them starve those timings. The database
// tests already ran one at a time (one server); the run takes seconds longer this way, and no test depends on luck.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
