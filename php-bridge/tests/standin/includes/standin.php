<?php

/**
 * STAND-IN for the WHMCS functions opsync's drop-in may call, for tests only. Each does
 * what WHMCS documents, against the real database:
 *
 * - `WHMCS\Database\Capsule::connection()->getPdo()`: one PDO to the database named in
 *   ROOTDIR/configuration.php (`$db_host`, `$db_port`, `$db_username`, `$db_password`,
 *   `$db_name`);
 * - `logActivity($description, $userId)`: a `tblactivitylog` row;
 * - `logModuleCall(...)`: a `tblmodulelog` row, with every `$replaceVars` string masked,
 *   only while `tblconfiguration.ModuleDebugMode` is `on` (WHMCS's Module Log);
 * - `localAPI('SendAdminEmail', ...)`: recorded as one JSON line in ROOTDIR/standin-mail.jsonl
 *   (WHMCS would mail the admins of the given `type`); while ROOTDIR/standin-mail-refused
 *   exists, answered with an error holding its text, as WHMCS answers when its mail fails;
 * - `add_hook(...)`: registered; `standin_run_hook($name, $vars)` (not WHMCS's) runs them;
 * - `check_token('WHMCS.admin.default')`: stops the request (HTTP 403) unless the POST's
 *   `token` is the one the admin area put into its forms (the stand-in's admin page keeps it
 *   in the session), as WHMCS's check stops a forged admin POST;
 * - `\App::get_admin_folder_name()`: `$customadminpath` of configuration.php, read inside
 *   the method as WHMCS 8 does (no global is set), `admin` when it is not set.
 */

declare(strict_types=1);

// WHMCS's names, not ours: several classes in one stand-in file, WHMCS's method names.
// phpcs:disable PSR1.Classes.ClassDeclaration.MultipleClasses
// phpcs:disable PSR1.Methods.CamelCapsMethodName.NotCamelCaps

namespace WHMCS\Database {
    final class Capsule
    {
        private static ?StandinConnection $connection = null;

        public static function connection(): StandinConnection
        {
            return self::$connection ??= new StandinConnection();
        }
    }

    final class StandinConnection
    {
        private ?\PDO $pdo = null;

        public function getPdo(): \PDO
        {
            if ($this->pdo === null) {
                $db_host = $db_port = $db_username = $db_password = $db_name = null;
                require ROOTDIR . '/configuration.php';
                $port = $db_port !== null && $db_port !== '' ? (int) $db_port : 3306;
                $this->pdo = new \PDO(
                    "mysql:host=$db_host;port=$port;dbname=$db_name;charset=utf8",
                    (string) $db_username,
                    (string) $db_password,
                    [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]
                );
            }
            return $this->pdo;
        }
    }
}

namespace {
    final class App
    {
        public static function get_admin_folder_name(): string
        {
            $customadminpath = null;
            $db_host = $db_port = $db_username = $db_password = $db_name = null;
            require ROOTDIR . '/configuration.php';
            return is_string($customadminpath) && trim($customadminpath, '/ ') !== '' ? trim($customadminpath, '/ ') : 'admin';
        }
    }

    function check_token($type = 'WHMCS.default')
    {
        $expected = $_SESSION['standin_token'] ?? null;
        if (!is_string($expected) || !hash_equals($expected, (string) ($_POST['token'] ?? ''))) {
            if (PHP_SAPI !== 'cli') {
                http_response_code(403);
            }
            exit('STAND-IN check_token: the request\'s CSRF token is missing or wrong; WHMCS stops the request here.');
        }
    }

    function logActivity($description, $userId = 0)
    {
        $statement = \WHMCS\Database\Capsule::connection()->getPdo()->prepare(
            "INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) VALUES (NOW(), ?, 'System', ?, '')"
        );
        $statement->execute([(string) $description, (int) $userId]);
    }

    function logModuleCall($module, $action, $requestString, $responseData, $processedData = '', $replaceVars = [])
    {
        $pdo = \WHMCS\Database\Capsule::connection()->getPdo();
        $on = $pdo->query("SELECT value FROM tblconfiguration WHERE setting = 'ModuleDebugMode'")->fetchColumn();
        if ($on !== 'on') {
            return;
        }
        $mask = static function ($value) use ($replaceVars): string {
            $text = is_string($value) ? $value : (string) json_encode($value);
            foreach ((array) $replaceVars as $secret) {
                if (is_string($secret) && $secret !== '') {
                    $text = str_replace($secret, str_repeat('*', strlen($secret)), $text);
                }
            }
            return $text;
        };
        $pdo->prepare('INSERT INTO tblmodulelog (date, module, action, request, response, arrdata) VALUES (NOW(), ?, ?, ?, ?, ?)')
            ->execute([(string) $module, (string) $action, $mask($requestString), $mask($responseData), $mask($processedData)]);
    }

    function localAPI($command, $values = [], $adminUser = '')
    {
        if ($command !== 'SendAdminEmail') {
            return ['result' => 'error', 'message' => "the stand-in knows only SendAdminEmail, not $command"];
        }
        $refused = ROOTDIR . '/standin-mail-refused';
        if (is_file($refused)) {
            return ['result' => 'error', 'message' => (string) file_get_contents($refused)];
        }
        $record = ['command' => $command, 'values' => $values];
        file_put_contents(ROOTDIR . '/standin-mail.jsonl', json_encode($record, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n", FILE_APPEND);
        return ['result' => 'success'];
    }

    /** @var array<string, list<array{int, callable}>> */
    $GLOBALS['standin_hooks'] = $GLOBALS['standin_hooks'] ?? [];

    function add_hook($hookPoint, $priority, $function)
    {
        $GLOBALS['standin_hooks'][$hookPoint][] = [(int) $priority, $function];
    }

    /** Not WHMCS's: runs the hooks registered for `$hookPoint`, by priority. */
    function standin_run_hook(string $hookPoint, array $vars = []): void
    {
        $hooks = $GLOBALS['standin_hooks'][$hookPoint] ?? [];
        usort($hooks, static fn (array $a, array $b): int => $a[0] <=> $b[0]);
        foreach ($hooks as [, $function]) {
            $function($vars);
        }
    }
}
