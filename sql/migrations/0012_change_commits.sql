-- The commits a change shipped, for lead time for changes as DORA defines it: each commit's
-- time from commit to production. A change that names only its head commit (`commit_sha`)
-- ships that one; commits sent with a change (`commits: [{sha, committed_at}]` on
-- POST /v1/changes) are kept here, their times in commit_time.
create table change_commit (
    change_id  bigint not null references change (id) on delete cascade,
    sha        text not null,
    primary key (change_id, sha)
);
