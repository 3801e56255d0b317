package hub.mongo;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Starts an in-memory MongoDB-wire server on loopback, prints "LISTENING <port>" and runs until its
 * standard input closes, so it never outlives the Node.js process that started it.
 */
public final class Launcher {

  /** The stock server reports wire version 8; driver 7 refuses anything below 9. 17 is MongoDB 6.0. */
  private static final MongoVersion WIRE_17 =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(6, 0, 0);
        }

        @Override
        public int getWireVersion() {
          return 17;
        }
      };

  private Launcher() {}

  public static void main(String[] args) throws IOException {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    MongoServer server = new MongoServer(new MemoryBackend().version(WIRE_17));
    server.bind(new InetSocketAddress(host, port));
    System.out.println("LISTENING " + server.getLocalAddress().getPort());
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    while (System.in.read() != -1) {
      // Drain input until the parent closes the pipe or exits.
    }
    server.shutdownNow();
    System.exit(0);
  }
}
