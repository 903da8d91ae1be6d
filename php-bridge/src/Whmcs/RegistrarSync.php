<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\OpsyncException;
use Opsync\Openprovider\Client;
use Opsync\Openprovider\ClientConfig;

/**
 * WHMCS's own domain sync asks a registrar module about one domain at a time
 * (`openprovider_Sync`, `openprovider_TransferSync`). These answer it with the engine's
 * decision on that domain (one look-up by name, `complete: false`), in WHMCS's terms:
 *
 * - `sync()`: `active` / `expired` when the engine moves the status there, `expirydate`
 *   when it moves the expiry, `error` when the domain could not be read. Never
 *   `cancelled` or `transferredAway`: opsync does not cancel a domain on a guess (the
 *   module's own answer maps FAI and DEL to Cancelled).
 * - `transferSync()`: `completed` and `expirydate` once the transfer is through (the
 *   engine makes the row Active), `failed` and `reason` when Openprovider says the request
 *   failed, `[]` while nothing is new, `error` when the domain could not be read.
 *
 * WHMCS writes what these return; nothing is pushed to Openprovider from here.
 */
final class RegistrarSync
{
    /** Notices that mean the domain could not be read. */
    private const UNREAD = ['not_in_openprovider', 'lookup_failed', 'not_checked', 'invalid_record'];

    /**
     * @param array<string, mixed> $params WHMCS's (`domainid` used)
     * @return array<string, mixed>
     */
    public static function sync(array $params, ?Host $host = null, ?Engine $engine = null): array
    {
        return self::answer($params, $host, $engine, static function (array $result, array $row): array {
            $answer = [];
            $status = $result['whmcs_changes']['status']['to'] ?? null;
            if ($status === 'Active') {
                $answer['active'] = true;
            } elseif ($status === 'Expired') {
                $answer['expired'] = true;
            }
            if (isset($result['whmcs_changes']['expirydate'])) {
                $answer['expirydate'] = $result['whmcs_changes']['expirydate']['to'];
            }
            if (self::notice($result, 'request_failed') !== null) {
                $answer['error'] = self::notice($result, 'request_failed');
            }
            return $answer;
        });
    }

    /**
     * @param array<string, mixed> $params
     * @return array<string, mixed>
     */
    public static function transferSync(array $params, ?Host $host = null, ?Engine $engine = null): array
    {
        return self::answer($params, $host, $engine, static function (array $result, array $row): array {
            $failed = self::notice($result, 'request_failed');
            if ($failed !== null) {
                return ['failed' => true, 'reason' => $failed];
            }
            if (($result['whmcs_changes']['status']['to'] ?? null) !== 'Active') {
                return [];
            }
            $answer = ['completed' => true];
            $expiry = $result['whmcs_changes']['expirydate']['to'] ?? $row['expirydate'];
            if (\is_string($expiry) && preg_match('/\A\d{4}-\d{2}-\d{2}\z/', $expiry) === 1 && $expiry !== '0000-00-00') {
                $answer['expirydate'] = $expiry;
            }
            return $answer;
        });
    }

    /**
     * Reads the row, looks its name up, asks the engine, and lets `$translate` put the
     * result in WHMCS's terms; any failure is WHMCS's `error`.
     *
     * @param array<string, mixed> $params
     * @param callable(array<string, mixed>, array<string, mixed>): array<string, mixed> $translate
     * @return array<string, mixed>
     */
    private static function answer(array $params, ?Host $host, ?Engine $engine, callable $translate): array
    {
        try {
            $host ??= new WhmcsHost();
            $engine ??= new Engine();
            $store = new Store($host->pdo(), $host);
            $settings = Settings::read($host, $store, getenv());
            $found = $store->row((int) ($params['domainid'] ?? 0));
            if ($found === null) {
                return ['error' => 'opsync: there is no domain with id ' . (int) ($params['domainid'] ?? 0)];
            }
            $row = $found['row'];
            $name = $engine->lookupNames([(string) $row['domain']])[0];
            $client = new Client(
                new ClientConfig($settings->baseUrl, $settings->username, $settings->password, $settings->tokenCache),
                static fn (string $action, string $request, string $response, array $secrets) => $host->moduleLog($action, $request, $response, $secrets),
            );
            $lookup = $name === null ? ['domains' => [], 'errors' => []] : $client->lookup([$name]);
            $flags = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;
            $request = '{"policy":' . $settings->policyJson()
                . ',"whmcs":[' . json_encode($row, $flags) . ']'
                . ',"openprovider":' . json_encode(['complete' => false, 'domains' => $lookup['domains']], $flags)
                . ',"lookup_errors":' . json_encode($lookup['errors'], $flags) . '}';
            $result = json_decode($engine->decide($request), true, 512, JSON_THROW_ON_ERROR)['results'][0];
            foreach ($result['notices'] as $notice) {
                if (\in_array($notice['code'], self::UNREAD, true)) {
                    return ['error' => $notice['message']];
                }
            }
            return $translate($result, $row);
        } catch (OpsyncException | \PDOException | \JsonException $e) {
            return ['error' => 'opsync: ' . $e->getMessage()];
        }
    }

    /** @param array<string, mixed> $result */
    private static function notice(array $result, string $code): ?string
    {
        foreach ($result['notices'] as $notice) {
            if ($notice['code'] === $code) {
                return $notice['message'];
            }
        }
        return null;
    }
}
