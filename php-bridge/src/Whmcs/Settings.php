<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * What a run of the drop-in is configured to do, from three places, the first that says
 * something winning, setting by setting:
 *
 * 1. the opsync addon's settings (Setup > Addon Modules > opsync); an empty value there
 *    means "as below";
 * 2. the Openprovider module's `configuration/advanced-module-configurations.php`, so an
 *    operator's existing settings carry over; every key is read with `array_key_exists`
 *    (the old module's truthiness check turned an offset of 0 into the default);
 * 3. the engine contract's defaults (a policy field nobody set is left out of the request).
 *
 * Credentials are the Openprovider registrar module's `Username`, `Password` and
 * `test_mode`. `OPSYNC_OP_BASE_URL` (tests) overrides the API address; otherwise
 * `test_mode` picks the module's test address, as the module does.
 */
final class Settings
{
    /** The mass-change brake's defaults, as the native `opsync` ([safety]). */
    public const MASS_CHANGE_PERCENT = 10;
    public const MASS_CHANGE_MIN_ROWS = 25;

    /** Problems already reported are listed in full again once a day. */
    public const REPEAT_STILL_OPEN_HOURS = 24;

    /** The advanced configuration, relative to the WHMCS root. */
    public const ADVANCED_FILE = '/modules/registrars/openprovider/configuration/advanced-module-configurations.php';

    /** Openprovider's production API, as the module's `api_url` names it. */
    public const DEFAULT_API_URL = 'https://api.openprovider.eu';

    /**
     * Each policy field: the addon's key, the advanced configuration's key, its kind.
     * `expiry_source` comes from `renewalDateSync` (true: the renewal date is the expiry).
     */
    private const POLICY = [
        'sync_status' => ['syncDomainStatus', 'bool'],
        'sync_expiry_date' => ['syncExpiryDate', 'bool'],
        'expiry_source' => ['renewalDateSync', 'source'],
        'sync_due_date' => ['updateNextDueDate', 'bool'],
        'due_date_offset_days' => ['nextDueDateOffset', 'days'],
        'due_date_max_shift_days' => ['nextDueDateUpdateMaxDayDifference', 'guard'],
        'sync_auto_renew' => ['syncAutoRenewSetting', 'bool'],
        'sync_whois_privacy' => ['syncIdentityProtectionToggle', 'bool'],
        'protected_statuses' => [null, 'statuses'],
    ];

    /**
     * @param array<string, mixed> $policy the engine's `policy`: only the fields someone set
     * @param array<string, string> $sources setting => where its value came from
     */
    public function __construct(
        public readonly array $policy,
        public readonly ?int $batchSize,
        public readonly bool $sendEmpty,
        public readonly bool $runFromCron,
        public readonly int $cronIntervalHours,
        public readonly string $baseUrl,
        public readonly string $username,
        #[\SensitiveParameter] public readonly string $password,
        public readonly ?string $tokenCache,
        public readonly array $sources,
        public readonly int $repeatStillOpenHours = self::REPEAT_STILL_OPEN_HOURS,
    ) {
    }

    /**
     * The settings of the WHMCS `$host` runs in.
     *
     * @param array<string, string> $env the environment (`getenv()`)
     */
    public static function read(Host $host, Store $store, array $env): self
    {
        $file = $host->rootDir() . self::ADVANCED_FILE;
        $advanced = [];
        if (is_file($file)) {
            $advanced = (static fn (string $path) => include $path)($file);
            if (!\is_array($advanced)) {
                throw new SettingsError("$file does not return an array of settings");
            }
        }
        return self::resolve($store->addonSettings(), $advanced, $host->registrarSettings(), $env);
    }

    /**
     * @param array<string, string> $addon the addon's stored settings
     * @param array<string, mixed> $advanced the module's advanced configuration
     * @param array<string, mixed> $registrar the registrar module's settings
     * @param array<string, string> $env
     */
    public static function resolve(array $addon, array $advanced, array $registrar, array $env): self
    {
        $sources = [];
        $pick = static function (string $name, ?string $advancedKey) use ($addon, $advanced, &$sources): ?array {
            if (isset($addon[$name]) && trim($addon[$name]) !== '' && trim($addon[$name]) !== 'inherit') {
                $sources[$name] = 'opsync addon';
                return [trim($addon[$name]), "the opsync addon's setting $name"];
            }
            if ($advancedKey !== null && array_key_exists($advancedKey, $advanced)) {
                $sources[$name] = "Openprovider module ($advancedKey)";
                return [$advanced[$advancedKey], "advanced-module-configurations.php: $advancedKey"];
            }
            $sources[$name] = 'default';
            return null;
        };

        $policy = [];
        foreach (self::POLICY as $field => [$advancedKey, $kind]) {
            $found = $pick($field, $advancedKey);
            if ($found === null) {
                continue;
            }
            [$value, $where] = $found;
            $policy[$field] = match ($kind) {
                'bool' => self::flag($value, $where),
                'source' => self::source($value, $where),
                'days' => self::days($value, $where),
                'guard' => self::guard($value, $where),
                'statuses' => self::statuses($value, $where),
            };
        }

        // The mass-change brake: on unless the percentage is 100.
        $percent = $pick('mass_change_percent', null);
        $percent = $percent === null ? self::MASS_CHANGE_PERCENT : self::days($percent[0], $percent[1]);
        if ($percent > 100) {
            throw new SettingsError("the opsync addon's setting mass_change_percent must be from 0 to 100 (100: no brake), not $percent");
        }
        $minRows = $pick('mass_change_min_rows', null);
        $minRows = $minRows === null ? self::MASS_CHANGE_MIN_ROWS : self::days($minRows[0], $minRows[1]);
        $policy['mass_change_limit'] = $percent < 100 ? ['percent' => $percent, 'min_rows' => $minRows] : null;
        $sources['mass_change_limit'] = $sources['mass_change_percent'] === 'default' && $sources['mass_change_min_rows'] === 'default'
            ? 'default' : 'opsync addon';

        $batch = $pick('batch_size', 'domainProcessingLimit');
        $batchSize = $batch === null ? null : self::days($batch[0], $batch[1]);
        $sendEmpty = $pick('send_empty', 'sendEmptyActivityEmail');
        $repeat = $pick('repeat_still_open_hours', null);
        $repeat = $repeat === null ? self::REPEAT_STILL_OPEN_HOURS : self::days($repeat[0], $repeat[1]);
        $runFromCron = $pick('run_from_cron', null);
        $interval = $pick('cron_interval_hours', 'updateInterval');

        [$baseUrl, $sources['api']] = self::baseUrl($advanced, $registrar, $env);
        $username = html_entity_decode((string) ($registrar['Username'] ?? ''), ENT_QUOTES | ENT_HTML5);
        $password = html_entity_decode((string) ($registrar['Password'] ?? ''), ENT_QUOTES | ENT_HTML5);
        if (trim($username) === '' || $password === '') {
            throw new SettingsError(
                'the Openprovider registrar module has no Username or Password: set them under '
                . 'Setup > Products/Services > Domain Registrars > Openprovider'
            );
        }
        $tokenCache = ($env['OPSYNC_TOKEN_CACHE'] ?? '') !== ''
            ? $env['OPSYNC_TOKEN_CACHE']
            : sys_get_temp_dir() . '/opsync-' . sha1("$baseUrl|$username") . '.token.json';

        return new self(
            $policy,
            $batchSize === null || $batchSize === 0 ? null : $batchSize,
            $sendEmpty !== null && self::flag($sendEmpty[0], $sendEmpty[1]),
            $runFromCron !== null && self::flag($runFromCron[0], $runFromCron[1]),
            $interval === null ? 1 : max(1, self::days($interval[0], $interval[1])),
            $baseUrl,
            $username,
            $password,
            $tokenCache,
            $sources,
            $repeat,
        );
    }

    /**
     * The engine's `policy` object: the fields someone set, and the mass-change brake
     * (released, for one run, with `$allowMassChange`).
     */
    public function policyJson(bool $allowMassChange = false): string
    {
        $policy = $this->policy;
        if ($allowMassChange) {
            $policy['mass_change_limit'] = null;
        }
        return json_encode((object) $policy, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
    }

    /** @return array{0: string, 1: string} the API base URL with `/v1beta`, and where it came from */
    private static function baseUrl(array $advanced, array $registrar, array $env): array
    {
        if (($env['OPSYNC_OP_BASE_URL'] ?? '') !== '') {
            [$url, $where] = [$env['OPSYNC_OP_BASE_URL'], 'OPSYNC_OP_BASE_URL'];
        } elseif (($registrar['test_mode'] ?? '') === 'on') {
            if (!\is_string($advanced['restapi_url_sandbox'] ?? null) || $advanced['restapi_url_sandbox'] === '') {
                throw new SettingsError(
                    'test mode is on in the Openprovider registrar module, but '
                    . 'advanced-module-configurations.php names no restapi_url_sandbox'
                );
            }
            [$url, $where] = [$advanced['restapi_url_sandbox'], 'Openprovider module (restapi_url_sandbox, test mode)'];
        } else {
            $url = \is_string($advanced['api_url'] ?? null) && $advanced['api_url'] !== '' ? $advanced['api_url'] : self::DEFAULT_API_URL;
            $where = 'Openprovider module (api_url)';
        }
        $url = rtrim($url, '/');
        if (!str_ends_with($url, '/v1beta')) {
            $url .= '/v1beta';
        }
        $local = preg_match('#\Ahttp://127\.[0-9.]+(:[0-9]+)?/#', $url) === 1;
        if (!str_starts_with($url, 'https://') && !$local) {
            throw new SettingsError(
                "the Openprovider API address $url ($where) must use https (plain http only to 127.0.0.1, for tests)"
            );
        }
        return [$url, $where];
    }

    private static function flag(mixed $value, string $where): bool
    {
        if (\is_bool($value)) {
            return $value;
        }
        $text = strtolower(trim((string) (\is_scalar($value) ? $value : '?')));
        return match ($text) {
            '1', 'on', 'yes', 'true' => true,
            '0', 'off', 'no', 'false' => false,
            default => throw new SettingsError("$where must be on or off, not " . json_encode($value)),
        };
    }

    private static function days(mixed $value, string $where): int
    {
        if (\is_int($value) && $value >= 0) {
            return $value;
        }
        if (\is_string($value) && ctype_digit(trim($value))) {
            return (int) trim($value);
        }
        throw new SettingsError("$where must be a whole number from 0 up, not " . json_encode($value));
    }

    /** The due-date guard: days, or `none` for no guard. */
    private static function guard(mixed $value, string $where): ?int
    {
        if (\is_string($value) && strtolower(trim($value)) === 'none') {
            return null;
        }
        return self::days($value, $where);
    }

    private static function source(mixed $value, string $where): string
    {
        if (\is_string($value) && \in_array(trim($value), ['expiration_date', 'renewal_date'], true)) {
            return trim($value);
        }
        // renewalDateSync: true means Openprovider's renewal date is the expiry.
        return self::flag($value, $where) ? 'renewal_date' : 'expiration_date';
    }

    /** @return list<string> */
    private static function statuses(mixed $value, string $where): array
    {
        if (!\is_string($value)) {
            throw new SettingsError("$where must list WHMCS statuses separated by commas");
        }
        return array_values(array_filter(array_map('trim', explode(',', $value)), static fn (string $s) => $s !== ''));
    }
}
