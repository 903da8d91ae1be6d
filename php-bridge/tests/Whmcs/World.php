<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use PDO;

/**
 * One test's world: a fresh stand-in WHMCS root (a copy of tests/standin) with opsync
 * installed into it by the real installer, a MariaDB database of its own (127.0.0.1:3306,
 * root) loaded with the fixture schema and rows, and a real Openprovider sandbox
 * (`op-sandbox`) seeded with domains. Only the WHMCS functions are stood in for.
 */
final class World
{
    public readonly string $root;
    public readonly string $database;
    public readonly Sandbox $sandbox;
    private PDO $pdo;

    /**
     * @param list<string> $rows SQL statements run after the schema
     * @param list<array<string, mixed>> $domains the sandbox's account
     * @param ?array<string, mixed> $advanced the Openprovider module's advanced configuration
     *   (null: the stand-in's copy of the file as the module ships it)
     * @param array<string, string> $addon the opsync addon's settings
     * @param array<string, string> $registrar the registrar module's settings over the sandbox's credentials
     */
    public function __construct(
        string $name,
        array $rows,
        array $domains,
        ?array $advanced = ['domainProcessingLimit' => 0, 'nextDueDateOffset' => 10, 'renewalDateSync' => false],
        array $addon = [],
        array $registrar = [],
    ) {
        $this->database = 'opsync_php_' . getmypid() . '_' . $name;
        $this->root = sys_get_temp_dir() . '/opsync-standin-' . getmypid() . '-' . $name;
        self::removeTree($this->root);
        self::copyTree(__DIR__ . '/../standin', $this->root);

        $admin = self::connect('test');
        $admin->exec("DROP DATABASE IF EXISTS {$this->database}");
        $admin->exec("CREATE DATABASE {$this->database}");
        $this->pdo = self::connect($this->database);
        $schema = (string) file_get_contents(self::repository() . '/fixtures/whmcs/schema.mysql.sql');
        foreach (array_merge(self::statements($schema), $rows) as $statement) {
            $this->pdo->exec($statement);
        }
        foreach ($addon as $setting => $value) {
            $this->pdo->prepare("INSERT INTO tbladdonmodules (module, setting, value) VALUES ('opsync', ?, ?)")
                ->execute([$setting, $value]);
        }
        $this->pdo->exec("INSERT INTO tblconfiguration (setting, value) VALUES ('ModuleDebugMode', 'on')");
        file_put_contents("{$this->root}/configuration.php", "<?php\n\$db_host = '127.0.0.1';\n\$db_port = '3306';\n"
            . "\$db_username = 'root';\n\$db_password = '';\n\$db_name = '{$this->database}';\n");

        $this->sandbox = new Sandbox($domains);
        file_put_contents("{$this->root}/standin-registrar.json", json_encode(['openprovider' => $registrar + [
            'Username' => $this->sandbox->username,
            // As WHMCS may store it: with an HTML entity the module decodes.
            'Password' => str_replace('-', '&#45;', $this->sandbox->password),
            'test_mode' => '',
        ]]));
        if ($advanced !== null) {
            $this->advanced($advanced);
        }
    }

    /**
     * A report without its run time (the footer's "The run took ... up to this report."),
     * the one line two runs of the same work rightly differ in. Fails when the line is
     * missing, so the mask never hides a report without it.
     */
    public static function withoutRunTime(string $report): string
    {
        $masked = (string) preg_replace('/The run took [^<\n]+ up to this report\./', 'The run took <time> up to this report.', $report, -1, $count);
        \PHPUnit\Framework\Assert::assertSame(1, $count, "the report gives its run time once:\n$report");
        return $masked;
    }

    public static function repository(): string
    {
        return \dirname(__DIR__, 3);
    }

    /** Writes the Openprovider module's advanced configuration. */
    public function advanced(array $settings): void
    {
        file_put_contents(
            "{$this->root}/modules/registrars/openprovider/configuration/advanced-module-configurations.php",
            "<?php\n\nreturn " . var_export($settings, true) . ";\n"
        );
    }

    /**
     * Installs opsync with the real installer.
     *
     * @return array{0: int, 1: string, 2: string} status, stdout, stderr
     */
    public function install(string ...$extra): array
    {
        $installed = self::run(array_merge(
            [PHP_BINARY, self::repository() . '/php-bridge/bin/opsync-whmcs-install.php', $this->root, '--lib', (string) getenv('OPSYNC_PHP_LIB')],
            $extra
        ));
        if ($installed[0] === 0 && !\in_array('--dry-run', $extra, true)) {
            $this->activate();
        }
        return $installed;
    }

    /** Activates the addon as an admin does (Setup > Addon Modules > Activate): its tables. */
    public function activate(): void
    {
        [$status, $out, $err] = $this->insideWhmcs("require ROOTDIR . '/modules/addons/opsync/opsync.php';\n"
            . 'echo json_encode(opsync_activate());');
        $answer = json_decode($out, true);
        if ($status !== 0 || ($answer['status'] ?? '') !== 'success') {
            throw new \RuntimeException("the addon's activation failed: $out$err");
        }
    }

    /**
     * Runs the drop-in as cron would.
     *
     * @param list<string> $args
     * @param array<string, string> $env
     * @return array{0: int, 1: string, 2: string}
     */
    public function domainSync(array $args = [], array $env = []): array
    {
        return self::run(
            array_merge([PHP_BINARY, "{$this->root}/modules/registrars/openprovider/cron/DomainSync.php"], $args),
            $this->env($env)
        );
    }

    /**
     * Starts the drop-in in the background.
     *
     * @param list<string> $args
     * @param array<string, string> $env
     */
    public function startDomainSync(array $args = [], array $env = []): Process
    {
        return new Process(
            array_merge([PHP_BINARY, "{$this->root}/modules/registrars/openprovider/cron/DomainSync.php"], $args),
            $this->env($env)
        );
    }

    /**
     * A PHP script run inside the stand-in WHMCS (after its init.php).
     *
     * @return array{0: int, 1: string, 2: string}
     */
    public function insideWhmcs(string $code): array
    {
        $script = "{$this->root}/standin-script.php";
        file_put_contents($script, "<?php\nrequire __DIR__ . '/init.php';\n$code\n");
        return self::run([PHP_BINARY, $script], $this->env([]));
    }

    /** The environment of every run: the sandbox, a token cache of this world's. */
    public function env(array $extra): array
    {
        return $extra + [
            'OPSYNC_OP_BASE_URL' => $this->sandbox->baseUrl,
            'OPSYNC_TOKEN_CACHE' => "{$this->root}/token.json",
        ] + self::inherited();
    }

    /** The native `opsync` command's configuration for this world's database. */
    public function nativeConfig(string $policy, ?string $baseUrl = null): string
    {
        $path = "{$this->root}/opsync.toml";
        file_put_contents($path, "[whmcs]\ndatabase_url = \"mysql://root@127.0.0.1:3306/{$this->database}\"\n"
            . "[openprovider]\nusername = \"{$this->sandbox->username}\"\npassword = \"{$this->sandbox->password}\"\n"
            . 'base_url = "' . ($baseUrl ?? $this->sandbox->baseUrl) . "\"\ntoken_cache = \"{$this->root}/native-token.json\"\n"
            . "[policy]\n$policy\n");
        return $path;
    }

    /**
     * Runs the native `opsync` command.
     *
     * @param array<string, string> $env added to what every child inherits
     * @param list<string> $args
     * @return array{0: int, 1: string, 2: string}
     */
    public function native(array $args, array $env = []): array
    {
        return self::run(array_merge([(string) getenv('OPSYNC_BIN')], $args), $env + self::inherited());
    }

    /** @param list<string> $args */
    public function startNative(array $args): Process
    {
        return new Process(array_merge([(string) getenv('OPSYNC_BIN')], $args), self::inherited());
    }

    public function pdo(): PDO
    {
        return $this->pdo;
    }

    /**
     * `status|expirydate|nextduedate|nextinvoicedate` of a row.
     */
    public function row(int $id): string
    {
        $statement = $this->pdo->prepare('SELECT CAST(status AS CHAR), CAST(expirydate AS CHAR), '
            . 'CAST(nextduedate AS CHAR), CAST(nextinvoicedate AS CHAR) FROM tbldomains WHERE id = ?');
        $statement->execute([$id]);
        return implode('|', array_map(static fn ($v) => (string) $v, (array) $statement->fetch(PDO::FETCH_NUM)));
    }

    /**
     * Every row of tbldomains, every column that matters to a sync, as text.
     *
     * @return list<string>
     */
    public function allRows(): array
    {
        return $this->texts('SELECT CONCAT_WS(\'|\', id, domain, status, IFNULL(CAST(expirydate AS CHAR), \'NULL\'), '
            . 'CAST(nextduedate AS CHAR), CAST(nextinvoicedate AS CHAR), donotrenew, idprotection, reminders) '
            . 'FROM tbldomains ORDER BY id');
    }

    /**
     * The requests a host's runs asked for (`OPSYNC_TRACE`), each as JSON without what two
     * runs of the same work rightly differ in: ids, times, the sandbox's address, the
     * session, the host's name and what the reports say of their run time; sorted, since
     * answers come back in any order and the next requests follow them.
     *
     * @return list<string>
     */
    public static function requests(string $trace): array
    {
        $undated = static fn (string $t): string => (string) preg_replace('/\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?/', '<time>', $t);
        $out = [];
        foreach (array_filter(explode("\n", (string) @file_get_contents($trace))) as $line) {
            $r = json_decode($line, true, 512, JSON_THROW_ON_ERROR)['request'] ?? null;
            if ($r === null || $r['kind'] === 'log') {
                continue;
            }
            unset($r['id'], $r['date'], $r['bearer'], $r['secrets']);
            switch ($r['kind']) {
                case 'http':
                    $r['url'] = (string) preg_replace('#\Ahttps?://[^/]+#', '', $r['url']);
                    break;
                case 'record_run':
                    $r = ['kind' => 'record_run', 'subject' => $undated($r['subject'])]
                        + array_intersect_key($r, array_flip(['mode', 'rows_checked', 'changed_rows', 'whmcs_updates',
                            'openprovider_updates', 'errors', 'warnings', 'failures', 'exit_status']));
                    break;
                case 'send_report':
                    $r = ['kind' => 'send_report', 'subject' => $undated($r['subject'])];
                    break;
                case 'store_memory':
                    $r['open_problems'] = array_map(static fn (array $p): array => array_diff_key($p, ['first_seen' => 1, 'last_seen' => 1]), $r['open_problems']);
                    $r['still_open_mailed_at'] = $r['still_open_mailed_at'] === null ? null : '<time>';
                    break;
            }
            $out[] = json_encode(self::sorted($r), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        }
        sort($out);
        return $out;
    }

    /** A value with every object's keys in order (the two traces write them differently). */
    private static function sorted(mixed $value): mixed
    {
        if (!\is_array($value)) {
            return $value;
        }
        $value = array_map(self::sorted(...), $value);
        if (!array_is_list($value)) {
            ksort($value);
        }
        return $value;
    }

    /** @return list<string> the activity log's descriptions, oldest first */
    public function activity(): array
    {
        return $this->texts('SELECT description FROM tblactivitylog ORDER BY id');
    }

    /** @return list<array<string, mixed>> the mails WHMCS was asked to send */
    public function mails(): array
    {
        $file = "{$this->root}/standin-mail.jsonl";
        if (!is_file($file)) {
            return [];
        }
        return array_map(
            static fn (string $line): array => json_decode($line, true, 512, JSON_THROW_ON_ERROR),
            array_values(array_filter(explode("\n", (string) file_get_contents($file))))
        );
    }

    /** @return list<array<string, string>> the run history, oldest first */
    public function runs(): array
    {
        return $this->pdo->query('SELECT * FROM opsync_runs ORDER BY id')->fetchAll(PDO::FETCH_ASSOC);
    }

    /** @return list<string> */
    public function texts(string $sql): array
    {
        return array_map(static fn ($v) => (string) $v, $this->pdo->query($sql)->fetchAll(PDO::FETCH_COLUMN));
    }

    public function destroy(): void
    {
        $this->sandbox->stop();
        unset($this->pdo);
        self::connect('test')->exec("DROP DATABASE IF EXISTS {$this->database}");
        self::removeTree($this->root);
    }

    /** The demo fixture's WHMCS rows (fixtures/demo/whmcs.sql). */
    public static function demoRows(): array
    {
        return self::statements((string) file_get_contents(self::repository() . '/fixtures/demo/whmcs.sql'));
    }

    /** @return list<array<string, mixed>> the demo fixture's Openprovider account */
    public static function demoDomains(): array
    {
        $seed = json_decode((string) file_get_contents(self::repository() . '/fixtures/demo/openprovider.json'), true);
        return $seed['domains'];
    }

    /**
     * @param list<string> $command
     * @param ?array<string, string> $env
     * @return array{0: int, 1: string, 2: string}
     */
    public static function run(array $command, ?array $env = null): array
    {
        $process = new Process($command, $env ?? self::inherited());
        return $process->wait();
    }

    /** @return array<string, string> what every child inherits: the engine's places */
    public static function inherited(): array
    {
        $env = [];
        foreach (['PATH', 'HOME', 'OPSYNC_PHP_LIB', 'OPSYNC_BIN', 'OPSYNC_CACHE_DIR', 'OPSYNC_ENGINE'] as $name) {
            $value = getenv($name);
            if ($value !== false) {
                $env[$name] = $value;
            }
        }
        return $env;
    }

    public static function connect(string $database): PDO
    {
        return new PDO("mysql:host=127.0.0.1;port=3306;dbname=$database;charset=utf8", 'root', '', [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        ]);
    }

    /** @return list<string> the statements of an SQL file, its comment lines dropped */
    private static function statements(string $sql): array
    {
        $statements = [];
        foreach (explode(";\n", $sql) as $part) {
            $lines = array_filter(explode("\n", $part), static fn (string $l) => !str_starts_with(ltrim($l), '--'));
            $statement = trim(implode("\n", $lines));
            if ($statement !== '') {
                $statements[] = $statement;
            }
        }
        return $statements;
    }

    private static function copyTree(string $from, string $to): void
    {
        $files = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($from, \FilesystemIterator::SKIP_DOTS));
        foreach ($files as $file) {
            $target = $to . substr($file->getPathname(), \strlen($from));
            if (!is_dir(\dirname($target))) {
                mkdir(\dirname($target), 0755, true);
            }
            copy($file->getPathname(), $target);
        }
    }

    private static function removeTree(string $dir): void
    {
        if (!is_dir($dir)) {
            return;
        }
        $files = new \RecursiveIteratorIterator(
            new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST
        );
        foreach ($files as $file) {
            $file->isDir() && !$file->isLink() ? rmdir($file->getPathname()) : unlink($file->getPathname());
        }
        rmdir($dir);
    }
}
