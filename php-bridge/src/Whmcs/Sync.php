<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
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
        $store = new Store($this->host->pdo(), $this->host);
        if (!$store->lock()) {
            throw new Locked('another opsync sync is running against this WHMCS database; this run did nothing');
        }
        try {
            $batch = $options->all ? null : ($options->batch ?? $this->settings->batchSize);
            $rows = $this->readWhmcs($store, $batch);
            ($this->say)('read ' . \count($rows) . ' WHMCS rows');
            [$openprovider, $lookupErrors] = $this->readOpenprovider($rows, $batch);
            ($this->say)('read ' . \count($openprovider['domains']) . ' Openprovider domains'
                . ($openprovider['complete'] ? ' (a complete listing)' : ''));
            [$responseJson, $response] = $this->decide($rows, $openprovider, $lookupErrors);
            $summary = $response['summary'];
            ($this->say)("the engine decided: {$summary['changed_rows']} rows change, {$summary['errors']} errors");

            $failures = [];
            if (!$options->dryRun) {
                $now = date('Y-m-d H:i:s');
                $userids = array_map(static fn (array $r): int => $r['userid'], $rows);
                $this->applyOpenprovider($store, $response, $userids, $failures);
                $this->applyWhmcs($store, $response, $userids, $failures);
                if ($batch !== null) {
                    $store->markSynced(array_map(static fn (array $r): int => $r['whmcs_id'], $response['results']), $now);
                }
            }

            $report = $this->renderReport($responseJson, $options, $failures);
            $mailError = null;
            $mailed = false;
            if ($options->mail && $report['send']) {
                $mailError = $this->host->mailAdmins($report['subject'], $report['html']);
                $mailed = $mailError === null;
            }
            if ($options->record) {
                $store->recordRun([
                    'started_at' => $started,
                    'finished_at' => date('Y-m-d H:i:s'),
                    'host' => 'whmcs',
                    'mode' => $options->dryRun ? 'dry-run' : 'sync',
                    'rows_checked' => $summary['rows'],
                    'changed_rows' => $summary['changed_rows'],
                    'whmcs_updates' => $summary['whmcs_updates'],
                    'openprovider_updates' => $summary['openprovider_updates'],
                    'errors' => $summary['errors'],
                    'warnings' => $summary['warnings'],
                    'failures' => \count($failures),
                    'subject' => $report['subject'],
                    'report_text' => $report['text'],
                    'report_html' => $report['html'],
                ]);
            }
            return new RunOutcome($response, $failures, $report, $openprovider['complete'], $mailed, $mailError);
        } finally {
            $store->unlock();
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
     * @return array{0: array{complete: bool, domains: list<array<string, mixed>>}, 1: list<array<string, string>>}
     */
    private function readOpenprovider(array $rows, ?int $batch): array
    {
        $client = $this->client();
        if ($batch !== null && \count($rows) < self::LOOKUP_BELOW) {
            $names = $this->engine->lookupNames(array_map(static fn (array $r): string => (string) $r['row']['domain'], $rows));
            $found = $client->lookup(array_values(array_filter($names, static fn (?string $n): bool => $n !== null)));
            return [['complete' => false, 'domains' => $found['domains']], $found['errors']];
        }
        $listing = $client->listAll();
        foreach ($listing->problems as $problem) {
            ($this->say)("the Openprovider listing is not complete: $problem");
        }
        return [['complete' => $listing->complete, 'domains' => $listing->domains], []];
    }

    /**
     * The engine's answer, as its bytes and decoded.
     *
     * @param list<array{userid: int, row: array<string, int|string|null>}> $rows
     * @param array{complete: bool, domains: list<array<string, mixed>>} $openprovider
     * @param list<array<string, string>> $lookupErrors
     * @return array{0: string, 1: array<string, mixed>}
     */
    private function decide(array $rows, array $openprovider, array $lookupErrors): array
    {
        $flags = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;
        $request = '{"policy":' . $this->settings->policyJson()
            . ',"whmcs":' . json_encode(array_map(static fn (array $r): array => $r['row'], $rows), $flags)
            . ',"openprovider":' . json_encode($openprovider, $flags)
            . ',"lookup_errors":' . json_encode($lookupErrors, $flags) . '}';
        $answer = $this->engine->decide($request);
        return [$answer, json_decode($answer, true, 512, JSON_THROW_ON_ERROR)];
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
     * The engine's report of the run.
     *
     * @param list<array<string, mixed>> $failures
     * @return array{send: bool, subject: string, text: string, html: string}
     */
    private function renderReport(string $responseJson, RunOptions $options, array $failures): array
    {
        $flags = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE;
        // The response goes back as the engine wrote it: decoding and encoding it again
        // would turn its empty objects into empty arrays.
        $input = '{"response":' . $responseJson
            . ',"dry_run":' . json_encode($options->dryRun)
            . ',"send_empty":' . json_encode($this->settings->sendEmpty)
            . ',"failures":' . json_encode($failures, $flags) . '}';
        return json_decode($this->engine->renderReport($input), true, 512, JSON_THROW_ON_ERROR);
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
