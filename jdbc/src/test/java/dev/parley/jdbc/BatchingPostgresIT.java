package dev.parley.jdbc;

import dev.parley.testing.kit.ScratchDatabase;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** The batching inbox and M8 on PostgreSQL. */
class BatchingPostgresIT extends BatchingContract {
  @Override
  ScratchDatabase database() {
    return ScratchDatabase.POSTGRESQL;
  }

  @Override
  DataSource fastCommits() {
    PGSimpleDataSource ds = ScratchDatabase.postgres(db.name(), 5432);
    ds.setOptions("-c synchronous_commit=off");
    var pool = ScratchDatabase.pooled(ds, 4);
    closeables.add(pool);
    return pool;
  }
}
