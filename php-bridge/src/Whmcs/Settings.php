<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\InvalidRequest;

/**
 * The settings a run starts from, as WHMCS holds them, raw: the opsync addon's settings
 * (Setup > Addon Modules > opsync), the Openprovider module's advanced configuration
 * (`configuration/advanced-module-configurations.php`), and the registrar module's
 * `Username`, `Password` and `test_mode`. What each means (which wins, the defaults, the
 * API's address) is the engine's reading, the same the native runner gets: see
 * `engine/src/run/settings.rs`. This class only reads where they are.
 */
final class Settings
{
    /** The addon's private folder, relative to the WHMCS root. */
    public const PRIVATE_DIR = '/modules/addons/opsync/private';

    /** The advanced configuration, relative to the WHMCS root. */
    public const ADVANCED_FILE = '/modules/registrars/openprovider/configuration/advanced-module-configurations.php';

    /**
     * @param array<string, mixed> $raw the settings as a run's start carries them
     * @param array<string, mixed> $read the engine's reading of them
     */
    public function __construct(
        public readonly array $raw,
        public readonly array $read,
        public readonly ?string $tokenCache,
    ) {
    }

    /**
     * The settings of the WHMCS `$host` runs in, read by `$engine`.
     *
     * @param array<string, string> $env the environment (`getenv()`)
     * @throws SettingsError when a setting cannot be used (the message names it)
     */
    public static function read(Host $host, Store $store, Engine $engine, array $env): self
    {
        $file = $host->rootDir() . self::ADVANCED_FILE;
        $advanced = null;
        if (is_file($file)) {
            $advanced = (static fn (string $path) => include $path)($file);
            if (!\is_array($advanced)) {
                throw new SettingsError("$file does not return an array of settings");
            }
        }
        $raw = self::raw($store->addonSettings(), $advanced, $host->registrarSettings(), $host->adminFolder(), $env);
        try {
            $read = json_decode($engine->settings(json_encode(['settings' => $raw], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES)), true, 512, JSON_THROW_ON_ERROR);
        } catch (InvalidRequest $e) {
            throw new SettingsError(preg_replace('/\Asettings: /', '', $e->getMessage()) ?? $e->getMessage());
        }
        $username = (string) ($raw['api']['username'] ?? '');
        // The session token, in the addon's own folder (made private by the installer),
        // never in the system's shared temp folder.
        $tokenCache = ($env['OPSYNC_TOKEN_CACHE'] ?? '') !== ''
            ? $env['OPSYNC_TOKEN_CACHE']
            : $host->rootDir() . self::PRIVATE_DIR . '/token-' . sha1($read['api_url'] . '|' . $username) . '.json';
        return new self($raw, $read, $tokenCache);
    }

    /**
     * The raw settings of a run: each place as it holds them. Stored registrar values may
     * hold HTML entities (the module decodes them).
     *
     * @param array<string, string> $addon
     * @param ?array<string, mixed> $advanced
     * @param array<string, mixed> $registrar
     * @param array<string, string> $env
     * @return array<string, mixed>
     */
    public static function raw(array $addon, ?array $advanced, array $registrar, string $adminFolder, array $env): array
    {
        $api = [
            'username' => html_entity_decode((string) ($registrar['Username'] ?? ''), ENT_QUOTES | ENT_HTML5),
            'password' => html_entity_decode((string) ($registrar['Password'] ?? ''), ENT_QUOTES | ENT_HTML5),
            'test_mode' => (string) ($registrar['test_mode'] ?? ''),
        ];
        if (($env['OPSYNC_OP_BASE_URL'] ?? '') !== '') {
            $api['base_url'] = $env['OPSYNC_OP_BASE_URL'];
            $api['base_url_source'] = 'environment OPSYNC_OP_BASE_URL';
        }
        return [
            'addon' => (object) $addon,
            'module' => $advanced === null ? null : (object) $advanced,
            'api' => $api,
            'whmcs' => ['admin_folder' => $adminFolder],
        ];
    }

    /** Whether the admin asked for runs from WHMCS's cron, and at most how often (hours). */
    public function runFromCron(): bool
    {
        return (bool) ($this->read['run_from_cron'] ?? false);
    }

    public function cronIntervalHours(): int
    {
        return (int) ($this->read['cron_interval_hours'] ?? 1);
    }
}
