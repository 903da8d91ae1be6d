<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\InvalidRequest;
use Opsync\Openprovider\ApiError;
use Opsync\Openprovider\Client;
use Opsync\Openprovider\ClientConfig;

/**
 * One sync run inside WHMCS: the same cron flow, step for step, as the native
 * `opsync sync` (`host-runner/src/sync.rs`):
 *
 * lock -> read WHMCS -> read Openprovider -> decide -> apply Openprovider -> apply WHMCS ->
 * advance the cursor -> render the report -> mail it -> record the run.
 *
 * The host decides nothing: what is written, and where, is each result's
 * `openprovider_update`, `whmcs_update` and `activity`, as the engine gave them; the names
 * looked up are the engine's `lookupNames`; what the admin reads is the engine's report. A
 * side's activity lines are written only when that side's write went through. A dry run
 * reads everything and writes nothing but its entry in the run history.
 */
final class Sync
{
    /** Batches this small are looked up by name instead of listing the whole account. */
    public const LOOKUP_BELOW = 100;

    /** @var \Closure(string): void */
    private \Closure $say;

    /** @var list<array{step: string, seconds: float}> the steps timed so far */
    private array $steps = [];

    /** @var ?array{string, float} the step running now and when it started */
    private ?array $current = null;

    /**
     * @param ?Client $client the Openprovider client (built from the settings when null)
     * @param ?callable(string): void $say progress lines (`--verbose`)
     */
    public function __construct(
        private readonly Host $host,
        private readonly Engine $engine,
        private readonly Settings $settings,
        private ?Client $client = null,
        ?callable $say = null,
    ) {
        $this->say = $say !== null ? \Closure::fromCallable($say) : static function (): void {
        };
    }

    /**
     * @throws Locked when another run (native or PHP) holds the lock
     * @throws \Opsync\OpsyncException when the run could not complete
     */
    public function run(RunOptions $options): RunOutcome
    {
        $started = date('Y-m-d H:i:s');
        $this->steps = [];
        $this->step('lock');
        $store = new Store($this->host->pdo(), $this->host);
        if (!$store->lock()) {
            throw new Locked('another opsync sync is running against this WHMCS database; this run did nothing');
        }
        try {
            try {
                $outcome = $this->steps($store, $options, $started);
            } catch (\Opsync\OpsyncException | \PDOException | \JsonException $e) {
                if ($options->record) {
                    $this->recordFailed($store, $started, $e);
                }
                throw $e;
            }
            if ($options->record) {
                $summary = $outcome->response['summary'];
                $store->recordRun([
                    'started_at' => $started,
                    'finished_at' => date('Y-m-d H:i:s'),
                    'host' => 'whmcs',
                    'mode' => ($summary['held'] ?? false) ? 'held' : ($options->dryRun ? 'dry-run' : 'sync'),
                    'rows_checked' => $summary['rows'],
                    'changed_rows' => $summary['changed_rows'],
                    'whmcs_updates' => $summary['whmcs_updates'],
                    'openprovider_updates' => $summary['openprovider_updates'],
                    'errors' => $summary['errors'],
                    'warnings' => $summary['warnings'],
                    'failures' => \count($outcome->failures),
                    'subject' => $outcome->report['subject'],
                    'report_text' => $outcome->report['text'],
                    'report_html' => $outcome->report['html'],
                    'exit_status' => $outcome->exitStatus(),
                    'steps' => json_encode($outcome->steps, JSON_THROW_ON_ERROR),
                ]);
            }
            return $outcome;
        } finally {
            $store->unlock();
        }
    }

    /** Ends the current step (if any) and starts `$step` (null: none). */
    private function step(?string $step): void
    {
        if ($this->current !== null) {
            [$name, $at] = $this->current;
            $seconds = microtime(true) - $at;
            $this->steps[] = ['step' => $name, 'seconds' => $seconds];
            ($this->say)(sprintf('step %s took %.3f s', $name, $seconds));
        }
        $this->current = $step === null ? null : [$step, microtime(true)];
    }

    /** The time of the steps so far, the current one included, in milliseconds. */
    private function elapsedMs(): int
    {
        $seconds = array_sum(array_column($this->steps, 'seconds'));
        if ($this->current !== null) {
            $seconds += microtime(true) - $this->current[1];
        }
        return (int) round($seconds * 1000);
    }

    /** The steps of a run that holds the lock, each timed, as `host-runner/src/sync.rs` names them. */
    private function steps(Store $store, RunOptions $options, string $started): RunOutcome
    {
        $this->step('read_whmcs');
        $batch = $options->all ? null : ($options->batch ?? $this->settings->batchSize);
        $rows = $this->readWhmcs($store, $batch);
        ($this->say)('read ' . \count($rows) . ' WHMCS rows');
        $this->step('read_openprovider');
        [$openprovider, $lookupErrors, $names] = $this->readOpenprovider($rows, $batch);
        $listingComplete = $openprovider['complete'];
        ($this->say)('read ' . \count($openprovider['domains']) . ' Openprovider domains'
            . ($openprovider['complete'] ? ' (a complete listing)' : ''));
        [$openprovider, $lookupErrors] = $this->addDeleted($names, $openprovider, $lookupErrors);
        $this->step('decide');
        $failures = [];
        [$responseJson, $response] = $this->decide($rows, $openprovider, $lookupErrors, $options, $failures);
        $summary = $response['summary'];
        $held = (bool) ($summary['held'] ?? false);
        ($this->say)("the engine decided: {$summary['changed_rows']} rows change, {$summary['errors']} errors"
            . ($held ? " (held by the mass-change brake: {$summary['held_rows']} rows would change)" : ''));

        if (!$options->dryRun) {
            $now = date('Y-m-d H:i:s');
            $userids = array_map(static fn (array $r): int => $r['userid'], $rows);
            $this->step('apply_openprovider');
            $this->applyOpenprovider($store, $response, $userids, $failures);
            $this->step('apply_whmcs');
            $this->applyWhmcs($store, $response, $userids, $failures);
            $this->step('cursor');
            // A held run synced nothing: its rows stay first in line.
            if ($batch !== null && !$held) {
                $store->markSynced(array_map(static fn (array $r): int => $r['whmcs_id'], $response['results']), $now);
            }
        }

        $this->step('report');
        $remembered = $store->remembered();
        $tracking = [
            'now' => $started,
            'complete' => $batch === null,
            'open_problems' => $remembered['open_problems'],
            'still_open_mailed_at' => $remembered['still_open_mailed_at'],
            // A run that mails nothing (a look) lists the still-open problems in full.
            'repeat_still_open_hours' => $options->mail ? $this->settings->repeatStillOpenHours : 0,
        ];
        $links = null;
        $systemUrl = $store->systemUrl();
        if ($systemUrl !== null) {
            $clients = [];
            foreach ($response['results'] as $i => $result) {
                $clients[] = ['whmcs_id' => $result['whmcs_id'], 'userid' => $rows[$i]['userid']];
            }
            $links = ['admin_url' => rtrim($systemUrl, '/') . '/' . $this->host->adminFolder() . '/', 'rows' => $clients];
        }
        $report = $this->renderReport($responseJson, $options, $failures, $tracking, $links);
        $mailError = null;
        $mailed = false;
        if ($options->mail && $report['send']) {
            $this->step('mail');
            $mailError = $this->host->mailAdmins($report['subject'], $report['html']);
            $mailed = $mailError === null;
        }
        // What the report knew is remembered for the next one, once the report reached the
        // admins (or needed no mail). A dry run remembers nothing.
        if (isset($report['tracking']) && !$options->dryRun && $mailError === null) {
            $store->remember($report['tracking']);
        }
        $this->step(null);
        return new RunOutcome($response, $failures, $report, $listingComplete, $mailed, $mailError, $this->steps);
    }

    /**
     * A run that took the lock but could not complete, in the run history (mode `failed`,
     * exit status 5, the error as its subject and report). When even that cannot be
     * written, the error already says why.
     */
    private function recordFailed(Store $store, string $started, \Throwable $e): void
    {
        $this->step(null);
        $message = 'opsync: the run did not complete: ' . str_replace(["\r", "\n"], ' ', $e->getMessage());
        try {
            $store->recordRun([
                'started_at' => $started,
                'finished_at' => date('Y-m-d H:i:s'),
                'host' => 'whmcs',
                'mode' => 'failed',
                'rows_checked' => 0,
                'changed_rows' => 0,
                'whmcs_updates' => 0,
                'openprovider_updates' => 0,
                'errors' => 0,
                'warnings' => 0,
                'failures' => 0,
                'subject' => $message,
                'report_text' => $message . "\n\nNothing after the step that failed was done; the next run starts afresh.\n",
                'report_html' => '',
                'exit_status' => Cli::EXIT_NOT_COMPLETED,
                'steps' => json_encode($this->steps, JSON_THROW_ON_ERROR),
            ]);
        } catch (\PDOException | \JsonException) {
        }
    }

    /** @return list<array{userid: int, row: array<string, int|string|null>}> */
    private function readWhmcs(Store $store, ?int $batch): array
    {
        return $batch === null ? $store->rows() : $store->nextBatch($batch);
    }

    /**
     * The bulk listing, or look-ups by name for a small batch.
     *
     * @param list<array{userid: int, row: array<string, int|string|null>}> $rows
     * @return array{0: array{complete: bool, domains: list<array<string, mixed>>}, 1: list<array<string, string>>, 2: list<string>}
     *     the snapshot, the look-up errors, and the rows' names as the engine pairs them
     */
    private function readOpenprovider(array $rows, ?int $batch): array
    {
        $client = $this->client();
        $names = $this->engine->lookupNames(array_map(static fn (array $r): string => (string) $r['row']['domain'], $rows));
        $names = array_values(array_unique(array_filter($names, static fn (?string $n): bool => $n !== null)));
        if ($batch !== null && \count($rows) < self::LOOKUP_BELOW) {
            $found = $client->lookup($names);
            $snapshot = ['complete' => false, 'domains' => $found['domains']];
            $errors = $found['errors'];
        } else {
            $listing = $client->listAll();
            foreach ($listing->problems as $problem) {
                ($this->say)("the Openprovider listing is not complete: $problem");
            }
            $snapshot = ['complete' => $listing->complete, 'domains' => $listing->domains];
            $errors = [];
        }
        return [$snapshot, $errors, $names];
    }

    /**
     * Contract v1.1: the names a complete listing lacks, or that a look-up did not find,
     * are looked up again among Openprovider's deleted domains; those found join the
     * snapshot marked `is_deleted`, and their "not found" goes.
     *
     * @param list<string> $names the rows' names, as the engine pairs them
     * @param array{complete: bool, domains: list<array<string, mixed>>} $snapshot
     * @param list<array<string, string>> $errors
     * @return array{0: array{complete: bool, domains: list<array<string, mixed>>}, 1: list<array<string, string>>}
     */
    private function addDeleted(array $names, array $snapshot, array $errors): array
    {
        $listed = array_flip(array_filter($this->engine->lookupNames(array_map(
            static fn (array $d): string => ($d['domain']['name'] ?? '') . '.' . ($d['domain']['extension'] ?? ''),
            $snapshot['domains']
        )), static fn (?string $n): bool => $n !== null));
        $notFound = [];
        foreach ($errors as $e) {
            if ($e['kind'] === 'not_found') {
                $notFound[$e['domain']] = true;
            }
        }
        $missing = array_values(array_filter(
            $names,
            static fn (string $n): bool => $snapshot['complete'] ? !isset($listed[$n]) : isset($notFound[$n])
        ));
        if ($missing === []) {
            return [$snapshot, $errors];
        }
        $deleted = $this->client()->lookupDeleted($missing);
        ($this->say)('looked ' . \count($missing) . ' missing domains up among the deleted: ' . \count($deleted) . ' found');
        $found = array_flip(array_filter($this->engine->lookupNames(array_map(
            static fn (array $d): string => ($d['domain']['name'] ?? '') . '.' . ($d['domain']['extension'] ?? ''),
            $deleted
        )), static fn (?string $n): bool => $n !== null));
        $errors = array_values(array_filter(
            $errors,
            static fn (array $e): bool => $e['kind'] !== 'not_found' || !isset($found[$e['domain']])
        ));
        $snapshot['domains'] = array_merge($snapshot['domains'], $deleted);
        return [$snapshot, $errors];
    }

    /**
     * The engine's answer, as its bytes and decoded. One bad row never stops a run: when
     * the engine refuses the request for one element (a row whose id it cannot take, a
     * record it cannot read), that element is left out and the request decided again. A
     * left-out row is a failure in the report (and `$rows` loses it, so the results and
     * the rows stay in step); a left-out record makes the snapshot incomplete, so no row
     * is called missing on its account.
     *
     * @param list<array{userid: int, row: array<string, int|string|null>}> $rows
     * @param array{complete: bool, domains: list<array<string, mixed>>} $openprovider
     * @param list<array<string, string>> $lookupErrors
     * @param list<array<string, mixed>> $failures
     * @return array{0: string, 1: array<string, mixed>}
     */
    private function decide(array &$rows, array $openprovider, array $lookupErrors, RunOptions $options, array &$failures): array
    {
        $flags = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;
        while (true) {
            $request = '{"policy":' . $this->settings->policyJson($options->allowMassChange)
                . ',"whmcs":' . json_encode(array_map(static fn (array $r): array => $r['row'], $rows), $flags)
                . ',"openprovider":' . json_encode($openprovider, $flags)
                . ',"lookup_errors":' . json_encode($lookupErrors, $flags) . '}';
            try {
                $answer = $this->engine->decide($request);
                return [$answer, json_decode($answer, true, 512, JSON_THROW_ON_ERROR)];
            } catch (InvalidRequest $e) {
                $message = $e->getMessage();
                if (preg_match('/\A(whmcs|openprovider\.domains|lookup_errors)\[(\d+)\]/', $message, $m) !== 1) {
                    throw $e;
                }
                $i = (int) $m[2];
                if ($m[1] === 'whmcs' && isset($rows[$i])) {
                    $row = $rows[$i]['row'];
                    array_splice($rows, $i, 1);
                    ($this->say)("left WHMCS row {$row['id']} out of this run: $message");
                    $failures[] = [
                        'whmcs_id' => (int) $row['id'],
                        'domain' => (string) ($row['domain'] ?? ''),
                        'side' => 'whmcs',
                        'message' => "left out of this run: the engine cannot read this row ($message); fix it in WHMCS",
                    ];
                } elseif ($m[1] === 'openprovider.domains' && isset($openprovider['domains'][$i])) {
                    $record = $openprovider['domains'][$i];
                    array_splice($openprovider['domains'], $i, 1);
                    $openprovider['complete'] = false;
                    $name = \is_array($record['domain'] ?? null) && \is_string($record['domain']['name'] ?? null)
                        && \is_string($record['domain']['extension'] ?? null)
                        ? $this->engine->lookupNames([$record['domain']['name'] . '.' . $record['domain']['extension']])[0]
                        : null;
                    if ($name !== null) {
                        $lookupErrors[] = ['domain' => $name, 'kind' => 'error', 'message' => "Openprovider's record could not be read ($message)"];
                    }
                    ($this->say)("left an Openprovider record out of this run: $message");
                } elseif ($m[1] === 'lookup_errors' && isset($lookupErrors[$i])) {
                    array_splice($lookupErrors, $i, 1);
                } else {
                    throw $e;
                }
            }
        }
    }

    /**
     * Each `openprovider_update`, a few at a time; a refusal becomes a failure of that
     * row's Openprovider side, an accepted update gets its activity lines.
     *
     * @param array<string, mixed> $response
     * @param list<int> $userids
     * @param list<array<string, mixed>> $failures
     */
    private function applyOpenprovider(Store $store, array $response, array $userids, array &$failures): void
    {
        $targets = [];
        $updates = [];
        foreach ($response['results'] as $i => $result) {
            if (isset($result['openprovider_update'])) {
                $targets[] = $i;
                $updates[] = $result['openprovider_update'];
            }
        }
        ($this->say)('updating ' . \count($updates) . ' domains at Openprovider');
        foreach ($this->client()->updateMany($updates) as $k => $outcome) {
            $i = $targets[$k];
            $result = $response['results'][$i];
            if ($outcome instanceof ApiError) {
                $failures[] = self::failure($result, 'openprovider', $outcome->getMessage());
                continue;
            }
            $store->writeActivity($result['activity']['openprovider'] ?? [], $userids[$i]);
        }
    }

    /**
     * Each `whmcs_update`, one row per transaction with its activity lines; a row edited
     * since it was read is left alone and becomes a failure of its WHMCS side.
     *
     * @param array<string, mixed> $response
     * @param list<int> $userids
     * @param list<array<string, mixed>> $failures
     */
    private function applyWhmcs(Store $store, array $response, array $userids, array &$failures): void
    {
        ($this->say)("writing {$response['summary']['whmcs_updates']} WHMCS rows");
        foreach ($response['results'] as $i => $result) {
            if (!isset($result['whmcs_update'])) {
                continue;
            }
            if (!$store->apply($result['whmcs_update'], $result['activity']['whmcs'] ?? [], $userids[$i])) {
                $failures[] = self::failure($result, 'whmcs', 'the row changed in WHMCS after opsync read it; left as it is');
            }
        }
    }

    /**
     * The engine's report of the run, with the time it took so far. A bad admin URL, or a
     * memory the engine refuses (edited by hand), costs the links or the memory, never the
     * report.
     *
     * @param list<array<string, mixed>> $failures
     * @param array<string, mixed> $tracking
     * @param ?array<string, mixed> $links
     * @return array<string, mixed>
     */
    private function renderReport(string $responseJson, RunOptions $options, array $failures, array $tracking, ?array $links): array
    {
        $flags = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE;
        while (true) {
            // The response goes back as the engine wrote it: decoding and encoding it again
            // would turn its empty objects into empty arrays.
            $input = '{"response":' . $responseJson
                . ',"dry_run":' . json_encode($options->dryRun)
                . ',"send_empty":' . json_encode($this->settings->sendEmpty)
                . ',"failures":' . json_encode($failures, $flags)
                . ',"tracking":' . json_encode($tracking, $flags)
                . ($links !== null ? ',"links":' . json_encode($links, $flags) : '')
                . ',"duration_ms":' . $this->elapsedMs() . '}';
            try {
                return json_decode($this->engine->renderReport($input), true, 512, JSON_THROW_ON_ERROR);
            } catch (InvalidRequest $e) {
                if ($links !== null && str_starts_with($e->getMessage(), 'links.')) {
                    ($this->say)('the report goes without links to the WHMCS admin area: ' . $e->getMessage());
                    $links = null;
                } elseif ($tracking['open_problems'] !== [] && str_starts_with($e->getMessage(), 'tracking.')) {
                    ($this->say)('the remembered problems cannot be read; all are new again: ' . $e->getMessage());
                    $tracking['open_problems'] = [];
                    $tracking['still_open_mailed_at'] = null;
                } else {
                    throw $e;
                }
            }
        }
    }

    private function client(): Client
    {
        return $this->client ??= new Client(
            new ClientConfig(
                $this->settings->baseUrl,
                $this->settings->username,
                $this->settings->password,
                $this->settings->tokenCache,
            ),
            fn (string $action, string $request, string $response, array $secrets) => $this->host->moduleLog($action, $request, $response, $secrets),
        );
    }

    /**
     * @param array<string, mixed> $result
     * @return array{whmcs_id: int, domain: string, side: string, message: string}
     */
    private static function failure(array $result, string $side, string $message): array
    {
        return ['whmcs_id' => $result['whmcs_id'], 'domain' => $result['domain'], 'side' => $side, 'message' => $message];
    }
}
