<?php
// PATH_INFO is what follows the script's name: /hello.php/a/b gives /a/b.
header('Content-Type: text/plain; charset=utf-8');
echo "hello from ", $_SERVER['SCRIPT_NAME'], ", PATH_INFO=", $_SERVER['PATH_INFO'] ?? '', "\n";
