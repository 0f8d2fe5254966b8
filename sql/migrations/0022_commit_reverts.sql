-- Reverts count as failures: a merged pull or merge request that reverts earlier work marks
-- the production change that shipped the reverted commit as failed, and the change that
-- ships the revert as rework (DORA's change failure rate and rework rate).
--
-- commit_request: the request (owner/repo#N, group/project!N) that merged each commit, so a
-- revert of the request finds the commits it merged.
create table commit_request (
    request  text not null,
    sha      text not null,
    primary key (request, sha)
);

-- commit_revert: what a commit reverts, a commit sha (lower case) or a request, and why.
create table commit_revert (
    revert_sha  text not null,
    target      text not null,
    reason      text not null,
    primary key (revert_sha, target)
);
create index commit_revert_target_idx on commit_revert (target);

-- The changes that shipped a commit, by the commit.
create index change_commit_sha_idx on change_commit (sha);

-- Each reverted commit: a sha named by the revert, or every commit of a request it names.
create view revert_target as
select r.revert_sha, r.target, lower(r.target) as sha
from commit_revert r
where r.target ~ '^[0-9a-fA-F]{7,64}$'
union all
select r.revert_sha, r.target, q.sha
from commit_revert r
join commit_request q on q.request = r.target;

-- The production change that shipped a commit: the first to finish, with a final status,
-- that names it as its commit or among the commits it shipped.
create function first_production_change(target text) returns bigint
language sql stable as $$
    select id from (
        select c.id, c.finished_at from change c
        where c.commit_sha = target
        union
        select c.id, c.finished_at from change_commit cc join change c on c.id = cc.change_id
        where cc.sha = target
    ) shipped
    join change c using (id)
    where c.is_production and c.status in ('success', 'failed', 'rolled_back')
      and c.finished_at is not null
    order by c.finished_at, c.id
    limit 1
$$;
