<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use PDO;

/**
 * The WHMCS database on WHMCS's own PDO, as the engine's run asks for it, with the native
 * runner's SQL (`host-runner/src/whmcs/`), so either host may run against the same
 * database:
 *
 * - rows read as text (`CAST(... AS CHAR)`), `[userid, id, domain, status, expirydate,
 *   nextduedate, nextinvoicedate, donotrenew, idprotection]`, SQL NULL as null: what a
 *   value means is the engine's business;
 * - the same run lock (`GET_LOCK('opsync_sync:<database>')`: a native run and a PHP run
 *   never overlap), the same cursor, memory and run history;
 * - the engine's guarded updates run as given: one row per transaction, `SET` what it
 *   sets `WHERE` the row still holds what was read, the row's activity lines in the same
 *   transaction. This class names no column the engine owns.
 * - every value a bound parameter; column names from the engine checked to be plain
 *   identifiers before they reach the SQL text.
 */
final class Store
{
    /** The columns the engine reads (`opsync_engine::columns::WHMCS_COLUMNS`), in order. */
    public const COLUMNS = ['id', 'domain', 'status', 'expirydate', 'nextduedate', 'nextinvoicedate', 'donotrenew', 'idprotection'];

    /** Openprovider's rows only (the registrar column holds the module name). */
    private const OURS = "LOWER(d.registrar) = 'openprovider'";

    private const CREATE_CURSOR = 'CREATE TABLE IF NOT EXISTS opsync_sync_state '
        . '(domain_id INT NOT NULL PRIMARY KEY, last_sync VARCHAR(19) NOT NULL)';

    public const CREATE_RUNS = 'CREATE TABLE IF NOT EXISTS opsync_runs ('
        . 'id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, started_at VARCHAR(19) NOT NULL, '
        . 'finished_at VARCHAR(19) NOT NULL, host VARCHAR(16) NOT NULL, mode VARCHAR(8) NOT NULL, '
        . 'rows_checked INT NOT NULL, changed_rows INT NOT NULL, whmcs_updates INT NOT NULL, '
        . 'openprovider_updates INT NOT NULL, errors INT NOT NULL, warnings INT NOT NULL, '
        . 'failures INT NOT NULL, subject TEXT NOT NULL, report_text MEDIUMTEXT NOT NULL, '
        . 'report_html MEDIUMTEXT NOT NULL, exit_status INT NULL, steps TEXT NULL)';

    /** What both hosts remember for the report, and opsync's small settings. */
    private const CREATE_PROBLEMS = 'CREATE TABLE IF NOT EXISTS opsync_problems ('
        . 'whmcs_id BIGINT NOT NULL, code VARCHAR(40) NOT NULL, domain TEXT NOT NULL, '
        . 'first_seen VARCHAR(19) NOT NULL, last_seen VARCHAR(19) NOT NULL, runs_seen INT NOT NULL, '
        . 'PRIMARY KEY (whmcs_id, code))';
    private const CREATE_STATE = 'CREATE TABLE IF NOT EXISTS opsync_state ('
        . 'name VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL)';
    private const STILL_OPEN_MAILED_AT = 'still_open_mailed_at';
    /** A run the admin page handed to the next cron run, and what became of the last one. */
    private const QUEUED = 'queued';
    private const DONE = 'last_request';

    /** Columns the run history gained after its first release, added to an older table. */
    private const RUNS_ADDED_COLUMNS = ['exit_status' => 'INT NULL', 'steps' => 'TEXT NULL'];

    /** The history's columns, as the engine's `record_run` names them. */
    private const RUN_COLUMNS = ['started_at', 'finished_at', 'host', 'mode', 'rows_checked', 'changed_rows', 'whmcs_updates',
        'openprovider_updates', 'errors', 'warnings', 'failures', 'subject', 'report_text', 'report_html',
        'exit_status', 'steps'];

    private bool $locked = false;

    public function __construct(private readonly PDO $pdo, private readonly Host $host)
    {
        $this->pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    }

    /** Takes the run lock; false at once when another run (of either host) holds it. */
    public function lock(): bool
    {
        $got = $this->pdo->query("SELECT CAST(GET_LOCK(CONCAT('opsync_sync:', DATABASE()), 0) AS CHAR)")->fetchColumn();
        $this->locked = (string) $got === '1';
        return $this->locked;
    }

    public function unlock(): void
    {
        if ($this->locked) {
            $this->locked = false;
            $this->pdo->query("SELECT RELEASE_LOCK(CONCAT('opsync_sync:', DATABASE()))")->fetchColumn();
        }
    }

    /** MySQL's code for a table that does not exist. */
    private const NO_SUCH_TABLE = 1146;

    /** MySQL's client codes for a connection that went away mid-run (and MariaDB's "killed"). */
    private const CONNECTION_LOST = [1927, 2006, 2013];

    /**
     * A database error in the words the native host uses: a lost connection says that the
     * next run carries on (each row is written in one transaction), any other error is
     * the database's answer.
     */
    public static function describe(\PDOException $e): string
    {
        $message = str_replace(["\r", "\n"], ' ', $e->getMessage());
        $code = (int) ($e->errorInfo[1] ?? 0);
        if ($code === self::NO_SUCH_TABLE && preg_match("/Table '(?:[^'.]*\\.)?(opsync_\\w+)' doesn't exist/", $message, $m) === 1) {
            return "the table {$m[1]} is missing: activate the opsync addon in WHMCS (Setup > Addon Modules > opsync > "
                . 'Activate), which creates its tables; runs need no right to create or change tables';
        }
        if (\in_array($code, self::CONNECTION_LOST, true) || preg_match('/\[(2006|2013)\]|server has gone away|Lost connection/i', $message) === 1) {
            return "lost the connection to the WHMCS database ($message); every row is written whole or not at all, "
                . 'so the next run carries on where this one stopped';
        }
        return "the WHMCS database answered with an error: $message";
    }

    /** Openprovider's rows by id, after the row whose id reads `$after`, at most `$limit`: their JSON. */
    public function readRows(?string $after, int $limit): string
    {
        if ($after === null) {
            return $this->rowsJson('SELECT ' . self::columns() . ' FROM tbldomains d WHERE ' . self::OURS . ' ORDER BY d.id LIMIT ?', [[$limit, PDO::PARAM_INT]]);
        }
        return $this->rowsJson('SELECT ' . self::columns() . ' FROM tbldomains d WHERE ' . self::OURS . ' AND d.id > ? ORDER BY d.id LIMIT ?', [[$after, PDO::PARAM_STR], [$limit, PDO::PARAM_INT]]);
    }

    /**
     * The next `$limit` rows of a batched run: never synced first, then the longest ago, by
     * id within each; with `$syncedBefore`, only rows never synced or synced before it.
     */
    public function readBatch(int $limit, ?string $syncedBefore = null): string
    {
        $sql = 'SELECT ' . self::columns() . ' FROM tbldomains d LEFT JOIN opsync_sync_state s ON s.domain_id = d.id '
            . 'WHERE ' . self::OURS . ' AND (s.last_sync IS NULL OR s.last_sync < ?) '
            . 'ORDER BY (s.last_sync IS NULL) DESC, s.last_sync ASC, d.id ASC LIMIT ?';
        // Without a minimum age every row qualifies: the bound is after any sync date.
        return $this->rowsJson($sql, [[$syncedBefore ?? '9999-12-31 23:59:59', PDO::PARAM_STR], [$limit, PDO::PARAM_INT]]);
    }

    /** The row with this id, whatever its registrar. */
    public function readRow(int $id): string
    {
        return $this->rowsJson('SELECT ' . self::columns() . ' FROM tbldomains d WHERE d.id = ?', [[$id, PDO::PARAM_INT]]);
    }

    /** Openprovider's rows' ids and names, by id, after `$after`, at most `$limit`. */
    public function readNames(?string $after, int $limit): string
    {
        $select = 'SELECT CAST(d.id AS CHAR), CAST(d.domain AS CHAR) FROM tbldomains d WHERE ' . self::OURS;
        $params = [];
        if ($after !== null) {
            $select .= ' AND d.id > ?';
            $params[] = [$after, PDO::PARAM_STR];
        }
        $params[] = [$limit, PDO::PARAM_INT];
        return $this->rowsJson("$select ORDER BY d.id LIMIT ?", $params);
    }

    /** @param list<int> $ids Openprovider's rows with these ids. */
    public function readRowsById(array $ids): string
    {
        if ($ids === []) {
            return '[]';
        }
        $marks = implode(', ', array_fill(0, \count($ids), '?'));
        return $this->rowsJson(
            'SELECT ' . self::columns() . ' FROM tbldomains d WHERE ' . self::OURS . " AND d.id IN ($marks) ORDER BY d.id",
            array_map(static fn (int $id): array => [$id, PDO::PARAM_INT], $ids)
        );
    }

    /**
     * opsync's memory and WHMCS's System URL, as the run's `read_state` answer.
     *
     * @return array{problems: list<list<?string>>, still_open_mailed_at: ?string, system_url: ?string}
     */
    public function readState(): array
    {
        $problems = $this->pdo->query('SELECT CAST(whmcs_id AS CHAR), CAST(code AS CHAR), CAST(domain AS CHAR), '
            . 'CAST(first_seen AS CHAR), CAST(last_seen AS CHAR), CAST(runs_seen AS CHAR) FROM opsync_problems '
            . 'ORDER BY whmcs_id, code')->fetchAll(PDO::FETCH_NUM);
        $state = $this->pdo->prepare('SELECT CAST(value AS CHAR) FROM opsync_state WHERE name = ?');
        $state->execute([self::STILL_OPEN_MAILED_AT]);
        $mailed = $state->fetchColumn();
        $url = $this->pdo->query("SELECT CAST(value AS CHAR) FROM tblconfiguration WHERE setting = 'SystemURL'")->fetchColumn();
        return [
            'problems' => array_map(static fn (array $r): array => array_map(static fn ($v): ?string => $v === null ? null : (string) $v, $r), $problems),
            'still_open_mailed_at' => \is_string($mailed) ? $mailed : null,
            'system_url' => \is_string($url) ? $url : null,
        ];
    }

    /**
     * Runs one of the engine's guarded updates and, if it matched the row, writes the
     * row's activity lines, all in one transaction. False when the row changed since it
     * was read (nothing is written then).
     *
     * @param array{set: array<string, mixed>, where: array<string, mixed>} $update
     * @param list<string> $lines
     */
    public function writeRow(array $update, array $lines, int $clientId): bool
    {
        if ($update['set'] === []) {
            return true;
        }
        $sets = [];
        $params = [];
        foreach ($update['set'] as $column => $value) {
            $sets[] = self::identifier((string) $column) . ' = ?';
            $params[] = $value;
        }
        $guard = $update['where'];
        if (!\is_int($guard['id'] ?? null)) {
            throw new StoreError('the engine gave an update without a row id');
        }
        $sql = 'UPDATE tbldomains SET ' . implode(', ', $sets) . ' WHERE id = ?';
        $params[] = $guard['id'];
        unset($guard['id']);
        foreach ($guard as $column => $old) {
            $column = self::identifier((string) $column);
            if ($old === null) {
                $sql .= " AND $column IS NULL";
            } elseif (\is_string($old)) {
                // Text is compared as text: the guard holds what was read with CAST.
                $sql .= " AND CAST($column AS CHAR) = ?";
                $params[] = $old;
            } else {
                $sql .= " AND $column = ?";
                $params[] = $old;
            }
        }
        return $this->transaction(function () use ($sql, $params, $lines, $clientId): bool {
            $statement = $this->pdo->prepare($sql);
            foreach ($params as $i => $value) {
                $statement->bindValue($i + 1, ...self::typed($value));
            }
            $statement->execute();
            if ($statement->rowCount() !== 1) {
                return false;
            }
            foreach ($lines as $line) {
                $this->host->activity($line, $clientId);
            }
            return true;
        }, commitWhen: static fn (bool $written): bool => $written);
    }

    /** @param list<string> $lines Activity lines for a row (its Openprovider side, once Openprovider took the update). */
    public function writeActivity(array $lines, int $clientId): void
    {
        foreach ($lines as $line) {
            $this->host->activity($line, $clientId);
        }
    }

    /** @param list<int> $ids Records that these rows were synced at `$date`. */
    public function markSynced(array $ids, string $date): void
    {
        $this->transaction(function () use ($ids, $date): void {
            $delete = $this->pdo->prepare('DELETE FROM opsync_sync_state WHERE domain_id = ?');
            $insert = $this->pdo->prepare('INSERT INTO opsync_sync_state (domain_id, last_sync) VALUES (?, ?)');
            foreach ($ids as $id) {
                $delete->execute([$id]);
                $insert->execute([$id, $date]);
            }
        });
    }

    /**
     * Replaces what is remembered with the report's, in one transaction.
     *
     * @param list<array<string, int|string>> $problems
     */
    public function storeMemory(array $problems, ?string $stillOpenMailedAt): void
    {
        $this->transaction(function () use ($problems, $stillOpenMailedAt): void {
            $this->pdo->exec('DELETE FROM opsync_problems');
            $insert = $this->pdo->prepare('INSERT INTO opsync_problems (whmcs_id, code, domain, first_seen, last_seen, runs_seen) '
                . 'VALUES (?, ?, ?, ?, ?, ?)');
            foreach ($problems as $p) {
                $insert->execute([$p['whmcs_id'], $p['code'], $p['domain'], $p['first_seen'], $p['last_seen'], $p['runs_seen']]);
            }
            $this->pdo->prepare('DELETE FROM opsync_state WHERE name = ?')->execute([self::STILL_OPEN_MAILED_AT]);
            if ($stillOpenMailedAt !== null) {
                $this->pdo->prepare('INSERT INTO opsync_state (name, value) VALUES (?, ?)')
                    ->execute([self::STILL_OPEN_MAILED_AT, $stillOpenMailedAt]);
            }
        });
    }

    /** @param array<string, int|string> $run a run history row, as the engine's `record_run` gives it */
    public function recordRun(array $run): void
    {
        $statement = $this->pdo->prepare('INSERT INTO opsync_runs (' . implode(', ', self::RUN_COLUMNS) . ') VALUES ('
            . implode(', ', array_fill(0, \count(self::RUN_COLUMNS), '?')) . ')');
        $statement->execute(array_map(static fn (string $c) => $run[$c], self::RUN_COLUMNS));
    }

    /**
     * The last runs, newest first (without their reports).
     *
     * @return list<array<string, string>>
     */
    public function lastRuns(int $limit): array
    {
        $statement = $this->pdo->prepare('SELECT CAST(id AS CHAR) AS id, started_at, finished_at, host, mode, '
            . 'CAST(rows_checked AS CHAR) AS rows_checked, CAST(changed_rows AS CHAR) AS changed_rows, '
            . 'CAST(errors AS CHAR) AS errors, CAST(warnings AS CHAR) AS warnings, '
            . 'CAST(failures AS CHAR) AS failures, subject, CAST(exit_status AS CHAR) AS exit_status '
            . 'FROM opsync_runs ORDER BY id DESC LIMIT ?');
        $statement->bindValue(1, $limit, PDO::PARAM_INT);
        $statement->execute();
        return $statement->fetchAll(PDO::FETCH_ASSOC);
    }

    /** When the last sync (not a dry run) of either host finished, or null. */
    public function lastSyncAt(): ?string
    {
        $last = $this->pdo->query("SELECT MAX(finished_at) FROM opsync_runs WHERE mode = 'sync'")->fetchColumn();
        return \is_string($last) && $last !== '' ? $last : null;
    }

    /** @return ?array<string, string> one run with its report */
    public function run(int $id): ?array
    {
        $statement = $this->pdo->prepare('SELECT CAST(id AS CHAR) AS id, started_at, host, mode, subject, report_text '
            . 'FROM opsync_runs WHERE id = ?');
        $statement->execute([$id]);
        $row = $statement->fetch(PDO::FETCH_ASSOC);
        return \is_array($row) ? $row : null;
    }

    /**
     * Hands a run to the next cron run (the addon page's Plan and Sync when the page
     * cannot or should not run it): `what` (`plan`, `sync`, `sync_release`) and when. A
     * later request replaces an earlier one still waiting.
     */
    public function queue(string $what, string $at): void
    {
        $this->putState(self::QUEUED, json_encode(['what' => $what, 'queued_at' => $at], JSON_THROW_ON_ERROR));
    }

    /** @return ?array{what: string, queued_at: string} the request waiting for a cron run */
    public function queued(): ?array
    {
        return $this->stateJson(self::QUEUED);
    }

    /**
     * Takes the waiting request, if any, so that one cron run alone carries it out.
     *
     * @return ?array{what: string, queued_at: string}
     */
    public function takeQueued(): ?array
    {
        return $this->transaction(function (): ?array {
            $select = $this->pdo->prepare('SELECT CAST(value AS CHAR) FROM opsync_state WHERE name = ? FOR UPDATE');
            $select->execute([self::QUEUED]);
            $value = $select->fetchColumn();
            if (!\is_string($value)) {
                return null;
            }
            $this->pdo->prepare('DELETE FROM opsync_state WHERE name = ?')->execute([self::QUEUED]);
            $request = json_decode($value, true);
            return \is_array($request) ? $request : null;
        });
    }

    /** Drops the waiting request (the page's Cancel). */
    public function cancelQueued(): void
    {
        $this->pdo->prepare('DELETE FROM opsync_state WHERE name = ?')->execute([self::QUEUED]);
    }

    /**
     * What became of the last request from the page: the request, when it ended, the
     * outcome's exit status, lines and report (a plan's report is kept nowhere else).
     *
     * @param array<string, mixed> $done
     */
    public function storeDone(array $done): void
    {
        $this->putState(self::DONE, json_encode($done, JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES));
    }

    /** @return ?array<string, mixed> {@see storeDone()} */
    public function done(): ?array
    {
        return $this->stateJson(self::DONE);
    }

    /** Whether a run of either host holds the run lock now. */
    public function runGoingOn(): bool
    {
        $used = $this->pdo->query("SELECT IS_USED_LOCK(CONCAT('opsync_sync:', DATABASE()))")->fetchColumn();
        return $used !== null && $used !== false;
    }

    private function putState(string $name, string $value): void
    {
        $this->transaction(function () use ($name, $value): void {
            $this->pdo->prepare('DELETE FROM opsync_state WHERE name = ?')->execute([$name]);
            $this->pdo->prepare('INSERT INTO opsync_state (name, value) VALUES (?, ?)')->execute([$name, $value]);
        });
    }

    /** @return ?array<string, mixed> */
    private function stateJson(string $name): ?array
    {
        $select = $this->pdo->prepare('SELECT CAST(value AS CHAR) FROM opsync_state WHERE name = ?');
        $select->execute([$name]);
        $value = $select->fetchColumn();
        $decoded = \is_string($value) ? json_decode($value, true) : null;
        return \is_array($decoded) ? $decoded : null;
    }

    /**
     * Creates opsync's own tables, or adds what an earlier release's lack: the addon's
     * activation and upgrade, the only times the drop-in changes the schema (a run needs
     * SELECT, INSERT, UPDATE and DELETE only).
     */
    public function createTables(): void
    {
        $this->pdo->exec(self::CREATE_CURSOR);
        $this->pdo->exec(self::CREATE_RUNS);
        $present = $this->pdo->query('SHOW COLUMNS FROM opsync_runs')->fetchAll(PDO::FETCH_COLUMN);
        foreach (self::RUNS_ADDED_COLUMNS as $column => $kind) {
            if (!\in_array($column, $present, true)) {
                $this->pdo->exec("ALTER TABLE opsync_runs ADD COLUMN $column $kind");
            }
        }
        $this->pdo->exec(self::CREATE_PROBLEMS);
        $this->pdo->exec(self::CREATE_STATE);
    }

    /**
     * The opsync addon's stored settings (`tbladdonmodules`).
     *
     * @return array<string, string>
     */
    public function addonSettings(): array
    {
        $statement = $this->pdo->prepare('SELECT setting, CAST(value AS CHAR) FROM tbladdonmodules WHERE module = ?');
        $statement->execute(['opsync']);
        $settings = [];
        foreach ($statement->fetchAll(PDO::FETCH_NUM) as [$setting, $value]) {
            $settings[(string) $setting] = (string) $value;
        }
        return $settings;
    }

    /**
     * Runs `$work` in a transaction: committed when `$commitWhen` says so (default:
     * always), rolled back otherwise and on any exception.
     *
     * @template T
     * @param callable(): T $work
     * @param ?callable(T): bool $commitWhen
     * @return T
     */
    private function transaction(callable $work, ?callable $commitWhen = null)
    {
        $this->pdo->beginTransaction();
        try {
            $result = $work();
        } catch (\Throwable $e) {
            $this->pdo->rollBack();
            throw $e;
        }
        if ($commitWhen === null || $commitWhen($result)) {
            $this->pdo->commit();
        } else {
            $this->pdo->rollBack();
        }
        return $result;
    }

    /**
     * The rows `$sql` selects, every column as text or null, as JSON: row by row, so a
     * read never holds more than its page as PHP values.
     *
     * @param list<array{0: mixed, 1: int}> $params
     */
    private function rowsJson(string $sql, array $params): string
    {
        $statement = $this->pdo->prepare($sql);
        foreach ($params as $i => [$value, $type]) {
            $statement->bindValue($i + 1, $value, $type);
        }
        $statement->execute();
        $json = '[';
        $first = true;
        while (($row = $statement->fetch(PDO::FETCH_NUM)) !== false) {
            $text = array_map(static fn ($v): ?string => $v === null ? null : (string) $v, $row);
            $json .= ($first ? '' : ',') . json_encode($text, JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);
            $first = false;
        }
        return $json . ']';
    }

    /** `userid` and the engine's columns of `tbldomains d`, each read as text. */
    private static function columns(): string
    {
        return implode(', ', array_map(
            static fn (string $c): string => "CAST(d.$c AS CHAR)",
            array_merge(['userid'], self::COLUMNS)
        ));
    }

    /** A column name from the engine, checked to be a plain identifier before it becomes SQL. */
    private static function identifier(string $name): string
    {
        if (preg_match('/\A[a-z0-9_]+\z/', $name) !== 1) {
            throw new StoreError("refused to write: \"$name\" is not a column name (the engine's answer is damaged)");
        }
        return $name;
    }

    /**
     * A JSON value from the engine's answer as a PDO value and type.
     *
     * @return array{0: mixed, 1: int}
     */
    private static function typed(mixed $value): array
    {
        return match (true) {
            $value === null => [null, PDO::PARAM_NULL],
            \is_bool($value) => [(int) $value, PDO::PARAM_INT],
            \is_int($value) => [$value, PDO::PARAM_INT],
            \is_string($value), \is_float($value) => [(string) $value, PDO::PARAM_STR],
            default => throw new StoreError('refused to write: ' . json_encode($value) . ' is not a value a column holds'),
        };
    }
}
